import type { PluginHandlers } from '../../lib/cni/dispatcher';
import { notImplemented } from '../not-implemented';

/** calico-ipam's verbs; allocation lands with the etcd datastore. */
export const calicoIpamHandlers: PluginHandlers = {
  add: () => notImplemented('calico-ipam', 'ADD'),
  del: () => notImplemented('calico-ipam', 'DEL'),
  check: () => notImplemented('calico-ipam', 'CHECK'),
  gc: () => notImplemented('calico-ipam', 'GC'),
  status: () => notImplemented('calico-ipam', 'STATUS'),
};
