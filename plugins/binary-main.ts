import { pluginMain, type PluginHandlers, type PluginOptions } from '../lib/cni/dispatcher';
import { exitWith } from '../lib/process-exit';

/** Runs a plugin binary: the CNI contract when called with no arguments (always, by runtimes). */
export async function binaryMain(
  handlers: PluginHandlers,
  options: PluginOptions & { binaryName: string },
): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.length > 0) {
    // Flags are for humans only; commander is loaded here so that the runtime path never pays for it.
    const { runFlags } = await import('./cli-flags');
    runFlags(options.binaryName, argv);
    return;
  }
  exitWith(await pluginMain(handlers, options));
}
