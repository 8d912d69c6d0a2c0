import { binaryMain } from '../binary-main';
import { lazyHandlers } from '../lazy-handlers';
import { PRODUCT_VERSION } from '../version';

void binaryMain(
  lazyHandlers(async () => (await import('./handlers')).calicoIpamHandlers),
  {
    binaryName: 'calico-ipam',
    about: `Calico CNI IPAM ${PRODUCT_VERSION}`,
  },
);
