import { binaryMain } from '../binary-main';
import { PRODUCT_VERSION } from '../version';
import { calicoIpamHandlers } from './handlers';

void binaryMain(calicoIpamHandlers, {
  binaryName: 'calico-ipam',
  about: `Calico CNI IPAM ${PRODUCT_VERSION}`,
});
