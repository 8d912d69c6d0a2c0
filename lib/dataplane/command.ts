import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { CniError, ErrorCode } from '../cni/errors';
import { forkAtBasePriority } from '../thread-priority';

// Every process the dataplane starts goes through here: argv arrays only (never a shell), a hard
// timeout that SIGKILLs the child, and a counter so that tests can hold the ADD hot path to its
// budget of spawns.

/** What one finished command printed, and how it exited. */
export interface CommandOutput {
  /** Exit status; 128 + n style when a signal (not our timeout) killed it. */
  code: number;
  stdout: string;
  stderr: string;
}

/** A command ran past its timeout and was killed (CniError 122). */
export class CommandTimedOut extends CniError {}

/** How to run one command. */
export interface CommandOptions {
  /** Written to the child's stdin, which is then closed (`ip -batch -`). */
  stdin?: string;
  /** Kill the child (SIGKILL) after this long and fail with a CniError naming `step`. */
  timeoutMs: number;
  /** What the command is for, e.g. `create veth cali123/eth0`; starts every error message. */
  step: string;
  /**
   * Open file descriptors the child gets as its fds 3, 4, ... (`/proc/self/fd/3`): a netns, a
   * file of commands.
   */
  extraFds?: readonly number[];
}

// Runtimes exec plugins with whatever PATH they have (containerd's may lack /usr/sbin), so the
// usual system directories are searched after PATH.
const FALLBACK_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
const resolved = new Map<string, string>();
const { signals } = osConstants;
let spawned = 0;

/** Absolute path of a system tool (`ip`, `nsenter`, `sysctl`), looked up once per process. */
export function tool(name: 'ip' | 'nsenter' | 'sysctl'): string {
  const known = resolved.get(name);
  if (known !== undefined) return known;
  const dirs = [
    ...(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/')),
    ...FALLBACK_DIRS,
  ];
  for (const dir of dirs) {
    const candidate = `${dir}/${name}`;
    try {
      accessSync(candidate, constants.X_OK);
      resolved.set(name, candidate);
      return candidate;
    } catch {
      // Not here; next directory.
    }
  }
  throw new CniError(
    ErrorCode.dataplaneFailed,
    `${name} not found in PATH or ${FALLBACK_DIRS.join(', ')}: install ${name === 'ip' ? 'iproute2' : name === 'nsenter' ? 'util-linux' : 'procps'}`,
  );
}

/** How many processes this module has started since the process began (for tests and benches). */
export function spawnedProcessCount(): number {
  return spawned;
}

/** A command line as users would type it, for error messages. */
export function describeArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/**
 * Run `argv` to completion. Resolves with its exit status and output whatever the status; rejects
 * (CniError 122) only when it cannot be started or runs past `timeoutMs`.
 */
export function runCommand(
  argv: readonly string[],
  options: CommandOptions,
): Promise<CommandOutput> {
  const started = startCommand(argv, { ...options, stdin: options.stdin !== undefined });
  if (options.stdin !== undefined) started.feed(options.stdin);
  return started.output;
}

/** What a running command has printed so far. */
export interface Printed {
  stdout: string;
  stderr: string;
}

/** A command started before its input is known; it waits on stdin until fed. */
export interface StartedCommand {
  /**
   * Writes `input` and keeps stdin open (a dialogue with `ip -batch -`), then resolves once
   * `ready` holds for everything printed so far (on the next event-loop turn, with all printed
   * by then), or once the child exited (`exited`). Call it before feed, one exchange at a time.
   */
  exchange: (
    input: string,
    ready: (printed: Printed) => boolean,
  ) => Promise<Printed & { exited?: CommandOutput }>;
  /** Writes `input` to the child's stdin and closes it; later calls do nothing. */
  feed: (input: string) => void;
  /** Closes stdin unfed: the child exits with nothing done, and nobody waits for it. */
  cancel: () => void;
  /** Settles when the child has exited, as runCommand's promise does. */
  readonly output: Promise<CommandOutput>;
}

/**
 * Starts `argv` now and lets the caller write its stdin later: an ADD forks and execs its
 * iproute2 and sysctl processes while IPAM waits on etcd, and only feeds them the addresses once
 * they are known. Until fed, the child and its timer do not keep this process alive: a caller
 * that never feeds it (an ADD that failed before configuring) exits, which closes the pipe, and
 * the child reads end of input and exits with nothing done.
 */
export function startCommand(
  argv: readonly string[],
  options: Omit<CommandOptions, 'stdin'> & { stdin: boolean },
): StartedCommand {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('startCommand: empty argv');
  if (options.timeoutMs <= 0) {
    const output = Promise.reject(
      new CommandTimedOut(
        ErrorCode.dataplaneFailed,
        `${options.step}: timed out before starting ${describeArgv(argv)}`,
      ),
    );
    output.catch(() => undefined);
    return { exchange: () => output, feed: () => undefined, cancel: () => undefined, output };
  }
  spawned += 1;
  // LC_ALL=C: iproute2's and the kernel's messages are matched below ("Cannot find device").
  const child = forkAtBasePriority(() =>
    spawn(file, args, {
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(options.extraFds ?? [])],
      env: { PATH: process.env.PATH ?? FALLBACK_DIRS.join(':'), LC_ALL: 'C' },
    }),
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  // The stdio pipes are net.Sockets at run time (typed as plain streams): they ref and unref too.
  const handles = [child, child.stdin, child.stdout, child.stderr, timer] as unknown as ({
    ref?: () => void;
    unref?: () => void;
  } | null)[];
  if (options.stdin) for (const h of handles) h?.unref?.();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  /** Checks the pending exchange, if any, after every chunk of output. */
  let onPrinted = (): void => undefined;
  const output = new Promise<CommandOutput>((resolve, reject) => {
    let failed = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      out.push(chunk);
      onPrinted();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err.push(chunk);
      onPrinted();
    });
    child.on('error', (e) => {
      failed = true;
      clearTimeout(timer);
      reject(
        new CniError(
          ErrorCode.dataplaneFailed,
          `${options.step}: cannot run ${describeArgv(argv)}: ${e.message}`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failed) return;
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) {
        reject(
          new CommandTimedOut(
            ErrorCode.dataplaneFailed,
            `${options.step}: ${describeArgv(argv)} timed out after ${options.timeoutMs} ms and was killed`,
            stderr.trim() === '' ? undefined : stderr.trim(),
          ),
        );
        return;
      }
      resolve({
        code: code ?? 128 + (signal === null ? 0 : signals[signal]),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr,
      });
    });
  });
  // Awaited by whoever feeds it; until then a failure must not count as an unhandled rejection.
  output.catch(() => undefined);
  // A child that exits before reading all of stdin gives EPIPE; its exit status tells the story.
  child.stdin?.on('error', () => undefined);
  let fed = false;
  const printed = (): Printed => ({
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  });
  return {
    exchange: (input, ready) => {
      if (fed) return Promise.reject(new Error(`${options.step}: exchange after feed`));
      // Held open while it answers; unheld again after, as an unfed command is (see above).
      for (const h of handles) h?.ref?.();
      child.stdin?.write(input);
      // Resolved one event-loop turn after `ready` holds, with what was printed by then: the
      // child's stderr, written before its stdout, is read in the same turn even when the
      // stdout event came first.
      const answered = new Promise<Printed>((resolve) => {
        onPrinted = () => {
          if (!ready(printed())) return;
          onPrinted = () => undefined;
          setImmediate(() => {
            resolve(printed());
          });
        };
        onPrinted();
      });
      const exited = output.then((o) => ({ ...o, exited: o }));
      return Promise.race([answered, exited]).finally(() => {
        onPrinted = () => undefined;
        if (!fed) for (const h of handles) h?.unref?.();
      });
    },
    feed: (input) => {
      if (fed) return;
      fed = true;
      for (const h of handles) h?.ref?.();
      child.stdin?.end(input);
    },
    cancel: () => {
      if (fed) return;
      fed = true;
      child.stdin?.end();
    },
    output,
  };
}

/**
 * startCommand once `when` settles, unless fed (then at once) or cancelled (then never) first. A
 * fork blocks this thread for 1–4 ms: an ADD that starts its waiting processes one event-loop turn
 * apart (nextTurn) lets the etcd answers that arrive meanwhile be handled between the forks.
 */
export function startCommandWhen(
  when: Promise<void>,
  argv: readonly string[],
  options: Omit<CommandOptions, 'stdin'> & { stdin: boolean },
): StartedCommand {
  let started: StartedCommand | undefined;
  let cancelled = false;
  let settle: ((output: Promise<CommandOutput>) => void) | undefined;
  const output = new Promise<CommandOutput>((resolve) => {
    settle = resolve;
  });
  output.catch(() => undefined);
  const start = (): StartedCommand => {
    if (started === undefined) {
      started = startCommand(argv, options);
      settle?.(started.output);
    }
    return started;
  };
  void when.then(() => {
    if (!cancelled) start();
  });
  return {
    exchange: (input, ready) =>
      cancelled
        ? Promise.reject(new Error(`${options.step}: exchange after cancel`))
        : start().exchange(input, ready),
    feed: (input) => {
      if (!cancelled) start().feed(input);
    },
    cancel: () => {
      if (started === undefined) cancelled = true;
      else started.cancel();
    },
    output,
  };
}

/** Settles on the event-loop turn (setImmediate) after `previous` settled (or after this one). */
export async function nextTurn(previous?: Promise<void>): Promise<void> {
  await previous;
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A monotonic deadline shared by all the steps of one operation. */
export class Deadline {
  private readonly end: number;

  constructor(readonly totalMs: number) {
    this.end = now() + totalMs;
  }

  /** Milliseconds left (never negative). */
  remaining(): number {
    return Math.max(0, this.end - now());
  }
}

// process.hrtime, not performance.now(): the latter loads perf_hooks on every plugin start.
function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
