import { parseCniArgs, type CniArgs } from './cni-args';
import { isCommand, readCniEnv, type CniCommand, type CniEnv } from './env';
import { CniError, ErrorCode, toCniError, toErrorObject } from './errors';
import { parseNetConf, type NetConf } from './netconf';
import { processIo, type PluginIo } from './process-io';
import { encodeResult } from './result/encode';
import type { Result } from './result/types';
import { CURRENT_VERSION, SUPPORTED_VERSIONS } from './versions';

/** What ADD, DEL and CHECK handlers receive: the validated environment and config. */
export interface CmdArgs {
  containerId: string;
  netns: string;
  ifName: string;
  args: CniArgs;
  /** CNI_PATH split into directories, in search order. */
  path: string[];
  /** The exact bytes received, for delegation (IPAM gets the complete config). */
  stdin: Buffer;
  netConf: NetConf;
  /** The whole environment, for delegation: a delegate sees what we saw. */
  env: Readonly<Record<string, string | undefined>>;
}

/** What GC and STATUS handlers receive: no container fields. */
export type ClusterArgs = Pick<CmdArgs, 'path' | 'stdin' | 'netConf' | 'env'>;

/** One handler per verb; ADD returns the internal result, the dispatcher prints it. */
export interface PluginHandlers {
  add: (args: CmdArgs) => Promise<Result>;
  del: (args: CmdArgs) => Promise<void>;
  check: (args: CmdArgs) => Promise<void>;
  gc: (args: ClusterArgs) => Promise<void>;
  status: (args: ClusterArgs) => Promise<void>;
}

/** How a plugin binary presents itself and treats CNI_ARGS. */
export interface PluginOptions {
  /** First line of the banner printed on stderr when CNI_COMMAND is empty. */
  about: string;
  /** Calico's main plugin tolerates unknown CNI_ARGS keys (it adds IgnoreUnknown=1 itself). */
  ignoreUnknownArgs?: boolean;
  io?: PluginIo;
}

/** The VERSION answer: our newest version and every version ADD accepts. */
export function versionInfo(): { cniVersion: string; supportedVersions: string[] } {
  return { cniVersion: CURRENT_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
}

/**
 * Runs one CNI invocation and returns the exit code; only the entry point sets it. stdout gets
 * exactly one line: the result, the VERSION answer, an error object, or nothing (DEL, CHECK, GC,
 * STATUS). Anything thrown that is not a CniError becomes code 999.
 */
export async function pluginMain(
  handlers: PluginHandlers,
  options: PluginOptions,
): Promise<number> {
  const io = options.io ?? processIo();
  let cniVersion: string | undefined;
  try {
    const command = io.env.CNI_COMMAND ?? '';
    if (command === '') {
      io.writeStderr(
        `${options.about}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`,
      );
      return 0;
    }
    if (!isCommand(command)) {
      throw new CniError(
        ErrorCode.invalidEnvironment,
        `unknown CNI_COMMAND: ${command.slice(0, 64)}`,
      );
    }
    const env = readCniEnv(command, io.env);
    if (command === 'VERSION') {
      io.writeStdout(`${JSON.stringify(versionInfo())}\n`);
      return 0;
    }
    const stdin = await readStdin(io);
    const netConf = parseNetConf(stdin, command, {
      onVersion: (v) => (cniVersion = v),
      onWarning: (message) => {
        io.writeStderr(`warning: ${message}\n`);
      },
    });
    const output = await runVerb(command, handlers, {
      env,
      stdin,
      netConf,
      io,
      ignoreUnknownArgs: options.ignoreUnknownArgs ?? false,
    });
    if (output !== undefined) io.writeStdout(`${JSON.stringify(output)}\n`);
    return 0;
  } catch (err) {
    const cniError = toCniError(err);
    // An unexpected error is a bug: its stack belongs in the logs, never on stdout.
    if (!(err instanceof CniError) && err instanceof Error && err.stack !== undefined) {
      io.writeStderr(`${err.stack}\n`);
    }
    io.writeStdout(`${JSON.stringify(toErrorObject(cniError, cniVersion))}\n`);
    return 1;
  }
}

interface VerbInput {
  env: CniEnv;
  stdin: Buffer;
  netConf: NetConf;
  io: PluginIo;
  ignoreUnknownArgs: boolean;
}

async function runVerb(
  command: Exclude<CniCommand, 'VERSION'>,
  handlers: PluginHandlers,
  input: VerbInput,
): Promise<Record<string, unknown> | undefined> {
  const { env, stdin, netConf, io } = input;
  const cluster: ClusterArgs = { path: env.path, stdin, netConf, env: io.env };
  switch (command) {
    case 'GC':
      await handlers.gc(cluster);
      return undefined;
    case 'STATUS':
      await handlers.status(cluster);
      return undefined;
    case 'ADD':
    case 'DEL':
    case 'CHECK':
      break;
  }
  const args: CmdArgs = {
    ...cluster,
    containerId: env.containerId,
    netns: env.netns,
    ifName: env.ifName,
    args: parseCniArgs(env.args, { ignoreUnknown: input.ignoreUnknownArgs }),
  };
  if (command === 'ADD') return encodeResult(await handlers.add(args), netConf.cniVersion);
  await (command === 'DEL' ? handlers.del(args) : handlers.check(args));
  return undefined;
}

async function readStdin(io: PluginIo): Promise<Buffer> {
  try {
    return await io.readStdin();
  } catch (err) {
    throw new CniError(
      ErrorCode.ioFailure,
      `error reading network config from stdin: ${toCniError(err).message}`,
    );
  }
}
