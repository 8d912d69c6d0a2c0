import type { PluginHandlers } from '../lib/cni/dispatcher';

/**
 * Handlers whose module is loaded on first use. The bundler turns the dynamic import into a lazy
 * initialiser, so VERSION, the about banner and every input error never load the datastore,
 * dataplane or IPAM code, nor the node built-ins they pull in (net, http, child_process).
 */
export function lazyHandlers(load: () => Promise<PluginHandlers>): PluginHandlers {
  return {
    add: async (args) => (await load()).add(args),
    del: async (args) => (await load()).del(args),
    check: async (args) => (await load()).check(args),
    gc: async (args) => (await load()).gc(args),
    status: async (args) => (await load()).status(args),
  };
}
