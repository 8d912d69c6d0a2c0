import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { CniCommand } from './env';
import { CniError, ErrorCode } from './errors';
import { isJsonObject } from './json-fields';
import { decodeResult } from './result/decode';
import type { Result } from './result/types';
import { validatePluginType } from './validate';
import { isSupportedVersion, type SpecVersion } from './versions';
import { forkAtBasePriority } from '../thread-priority';

/** How to run a delegated plugin: the caller's environment and the complete stdin, unchanged. */
export interface DelegateOptions {
  env: Readonly<Record<string, string | undefined>>;
  stdin: Buffer;
  /** CNI_PATH directories in search order. */
  path: readonly string[];
  /** Kill the delegate after this long (SIGKILL, as libcni does on a cancelled context). */
  timeoutMs?: number;
}

/**
 * The first `<dir>/<plugin>` that is a regular file, in CNI_PATH order (libcni FindInPath; the
 * executable bit is not checked here, exec reports it).
 */
export function findInPath(plugin: string, dirs: readonly string[]): string {
  validatePluginType('plugin type', plugin);
  for (const dir of dirs) {
    const candidate = join(dir, plugin);
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile() === true) return candidate;
  }
  throw new CniError(
    ErrorCode.delegateFailed,
    `failed to find plugin "${plugin}" in path [${dirs.join(' ')}]`,
  );
}

/** ADD through a delegate (usually IPAM): its result, read in the config's version. */
export async function delegateAdd(
  plugin: string,
  options: DelegateOptions & { cniVersion: SpecVersion },
): Promise<Result> {
  const { file, stdout } = await runDelegate(plugin, 'ADD', options);
  let wire: unknown;
  try {
    wire = JSON.parse(stdout.toString('utf8'));
  } catch {
    throw new CniError(
      ErrorCode.delegateFailed,
      `plugin ${file} exited 0 but did not print one JSON result on stdout`,
      preview(stdout),
    );
  }
  // A delegate that answers in another version than asked is tolerated when we can read it.
  const stamped = isJsonObject(wire) ? wire.cniVersion : undefined;
  const version =
    typeof stamped === 'string' && isSupportedVersion(stamped) ? stamped : options.cniVersion;
  return decodeResult(wire, version, {
    source: `result of ${file}`,
    code: ErrorCode.delegateFailed,
  });
}

/** DEL, CHECK, GC or STATUS through a delegate: only its exit status and error object matter. */
export async function delegateCommand(
  plugin: string,
  command: Exclude<CniCommand, 'ADD' | 'VERSION'>,
  options: DelegateOptions,
): Promise<void> {
  await runDelegate(plugin, command, options);
}

async function runDelegate(
  plugin: string,
  command: CniCommand,
  options: DelegateOptions,
): Promise<{ file: string; stdout: Buffer }> {
  const file = findInPath(plugin, options.path);
  const { code, stdout } = await execPlugin(file, { ...options, command });
  if (code === 0) return { file, stdout };
  throw delegateError(file, code, stdout);
}

// A delegate's own CNI error passes through unchanged (code, msg, details); anything else is ours.
function delegateError(file: string, exit: number | string, stdout: Buffer): CniError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (isJsonObject(parsed) && Number.isInteger(parsed.code) && typeof parsed.msg === 'string') {
    const details = typeof parsed.details === 'string' ? parsed.details : undefined;
    return new CniError(parsed.code as number, parsed.msg, details);
  }
  const what = stdout.length === 0 ? 'printed nothing on stdout' : 'printed no CNI error object';
  return new CniError(
    ErrorCode.delegateFailed,
    `plugin ${file} failed (${typeof exit === 'number' ? `exit status ${exit}` : exit}) and ${what}`,
    stdout.length === 0 ? undefined : preview(stdout),
  );
}

function execPlugin(
  file: string,
  options: DelegateOptions & { command: CniCommand },
): Promise<{ code: number | string; stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    // No arguments beyond argv[0], as libcni; the delegate's stderr goes straight to ours. Its own
    // process group lets a timeout kill whatever it started too.
    const child = forkAtBasePriority(() =>
      spawn(file, [], {
        env: { ...options.env, CNI_COMMAND: options.command },
        stdio: ['pipe', 'pipe', 'inherit'],
        detached: options.timeoutMs !== undefined,
      }),
    );
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (code: number | string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      resolve({ code, stdout: Buffer.concat(chunks) });
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            killGroup(child.pid);
          }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (err) => {
      settled = true;
      clearTimeout(timer);
      reject(
        new CniError(ErrorCode.delegateFailed, `failed to run plugin ${file}: ${err.message}`),
      );
    });
    child.on('close', (code, signal) => {
      finish(code ?? `killed by ${signal ?? 'a signal'}`);
    });
    // A child it left behind may hold stdout open after the delegate itself exited: wait briefly
    // for the rest of its output, then stop waiting.
    child.on('exit', (code, signal) => {
      setTimeout(() => {
        finish(code ?? `killed by ${signal ?? 'a signal'}`);
      }, 500).unref();
    });
    // A delegate that exits without reading stdin gives EPIPE; its exit status tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin);
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function preview(stdout: Buffer): string {
  const text = stdout.toString('utf8');
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
