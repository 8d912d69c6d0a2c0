import { binaryMain } from '../binary-main';
import { lazyHandlers } from '../lazy-handlers';
import { PRODUCT_VERSION } from '../version';

void binaryMain(
  lazyHandlers(async () => (await import('./handlers')).calicoHandlers),
  {
    binaryName: 'calico',
    about: `Calico CNI plugin ${PRODUCT_VERSION}`,
    // Calico adds IgnoreUnknown=1 to its own CNI_ARGS: CRI runtimes send K8S_POD_UID and others.
    ignoreUnknownArgs: true,
  },
);
