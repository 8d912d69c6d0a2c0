import { spawn } from 'node:child_process';

/** What one execution of a plugin binary produced. */
export interface ExecResult {
  /** Exit status, or null when the process was killed by a signal or never started. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Set when the binary could not be started at all (ENOENT, EACCES, …). */
  readonly spawnError?: string;
}

/** How to run one execution. */
export interface ExecOptions {
  /** The child's complete environment: nothing is inherited from the harness. */
  readonly env: Readonly<Record<string, string>>;
  /** Written to stdin, which is then closed; undefined gives the child /dev/null. */
  readonly stdin?: string | undefined;
  readonly timeoutMs: number;
  /** Argv prefix that runs the binary, e.g. `['/usr/sbin/ip', 'netns', 'exec', 'node-1']`. */
  readonly wrapper?: readonly string[];
  readonly cwd?: string;
}

const MAX_CAPTURE = 1024 * 1024;

/** Process groups of children still running, so a signal handler can kill them. */
const liveGroups = new Set<number>();

/** SIGKILL every plugin process group this module started that is still running. */
export function killLiveChildren(): void {
  for (const pid of liveGroups) killGroup(pid);
}

/** SIGKILL the process group led by `pid`; a group already gone is fine. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Append `chunk` to `parts` unless the capture limit is reached (a runaway plugin). */
function capture(parts: Buffer[], chunk: Buffer): void {
  const size = parts.reduce((n, p) => n + p.length, 0);
  if (size < MAX_CAPTURE) parts.push(chunk);
}

/**
 * Run `binary` with no arguments (argv[0] only, as libcni does), never through a shell, and
 * collect its output. The child leads its own process group so a timeout kills its helpers too.
 */
export function execPlugin(binary: string, opts: ExecOptions): Promise<ExecResult> {
  const [file = binary, ...rest] = opts.wrapper ?? [];
  const args = opts.wrapper === undefined ? [] : [...rest, binary];
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let spawnError: string | undefined;
    let done = false;
    const child = spawn(file, args, {
      env: { ...opts.env },
      cwd: opts.cwd,
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = child.pid;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (pid !== undefined) liveGroups.delete(pid);
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        ...(spawnError === undefined ? {} : { spawnError }),
      });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, opts.timeoutMs);
    if (pid !== undefined) liveGroups.add(pid);
    child.stdout?.on('data', (chunk: Buffer) => {
      capture(out, chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      capture(err, chunk);
    });
    child.on('error', (e) => {
      spawnError = e.message;
      // A binary that never started does not reliably emit 'close'.
      if (pid === undefined) finish(null, null);
    });
    child.on('close', finish);
    if (child.stdin !== null) {
      // A plugin may exit without reading stdin (VERSION): EPIPE is not the plugin's fault.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.stdin);
    }
  });
}
