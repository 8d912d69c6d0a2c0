import { binaryMain } from '../binary-main';
import { PRODUCT_VERSION } from '../version';
import { calicoHandlers } from './handlers';

void binaryMain(calicoHandlers, {
  binaryName: 'calico',
  about: `Calico CNI plugin ${PRODUCT_VERSION}`,
  // Calico adds IgnoreUnknown=1 to its own CNI_ARGS: CRI runtimes send K8S_POD_UID and others.
  ignoreUnknownArgs: true,
});
