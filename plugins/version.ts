declare const __CALICO_VERSION__: string | undefined;

/** The product version, injected by the bundler; "dev" when run from source. */
export const PRODUCT_VERSION: string =
  typeof __CALICO_VERSION__ === 'string' ? __CALICO_VERSION__ : 'dev';
