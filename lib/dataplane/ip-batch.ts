import { CniError, ErrorCode } from '../cni/errors';
import { describeArgv, startCommand, startCommandWhen, tool } from './command';

// One `ip -batch -` process runs many iproute2 commands: a process per command would cost a
// fork+exec (and, inside a netns, an nsenter) each. Batch lines are tokenised by iproute2 on
// whitespace, with quotes and a leading `#` being special, so only validated interface names and
// addresses are ever interpolated into them (names.ts).

/** One line of a batch. */
export interface BatchCommand {
  /** The iproute2 command without the leading `ip`, e.g. `link set dev eth0 up`. */
  command: string;
  /** A `show` command: under `-j` it prints exactly one JSON line on success. */
  prints?: boolean;
}

/** What became of one line. */
export type LineOutcome =
  | { status: 'ok'; output: string | undefined }
  | { status: 'failed'; error: string }
  | { status: 'not-run' };

/** The outcome of every line, in order. */
export interface BatchOutcome {
  lines: LineOutcome[];
  /** iproute2's whole stderr. */
  stderr: string;
  /** The argv that ran, for messages. */
  argv: readonly string[];
}

/** Where and how to run a batch. */
export interface BatchOptions {
  /** Run inside this network namespace (through `nsenter --net=`); the caller's when absent. */
  netns?: string | undefined;
  /**
   * The same namespace's name under /var/run/netns (netnsName), when it has one: iproute2 then
   * enters it itself (`ip -n`), one exec fewer than through nsenter.
   */
  netnsName?: string | undefined;
  /** `-force`: keep going after a failed line (every line's outcome is then known). */
  force?: boolean;
  /** `-6` for commands whose family iproute2 cannot infer (`route show <v6 prefix>`). */
  family?: 4 | 6;
  timeoutMs: number;
  step: string;
  /** File descriptors the batch's lines can name as `/proc/self/fd/3`, 4, ... (CommandOptions). */
  extraFds?: readonly number[];
}

/**
 * The argv of a batch: `ip -n NAME` for a netns with a name under /var/run/netns, else
 * `nsenter --net=PATH ip` (`ip -n` takes no paths).
 */
export function batchArgv(
  options: Omit<BatchOptions, 'timeoutMs' | 'step'>,
  json: boolean,
): string[] {
  const { netns, netnsName } = options;
  const byName = netns !== undefined && netnsName !== undefined;
  const ip = [tool('ip'), ...(byName ? ['-n', netnsName] : [])];
  if (options.family !== undefined) ip.push(`-${options.family}`);
  if (json) ip.push('-j');
  if (options.force === true) ip.push('-force');
  ip.push('-batch', '-');
  return netns === undefined || byName ? ip : [tool('nsenter'), `--net=${netns}`, ...ip];
}

/** Run `commands` in one iproute2 process. Never throws for a failed line: see `lines`. */
export function ipBatch(
  commands: readonly BatchCommand[],
  options: BatchOptions,
): Promise<BatchOutcome> {
  const json = commands.some((c) => c.prints === true);
  return startIpBatch({ ...options, json }).run(commands);
}

/** An iproute2 batch process started before its commands are known (see startCommand). */
export interface StartedBatch {
  /**
   * Sends commands ending in a printing one and resolves with their outcomes once iproute2 has
   * answered the last, leaving the process running for more: one process both creates a veth
   * and, later, configures it.
   */
  exchange: (commands: readonly BatchCommand[]) => Promise<BatchOutcome>;
  /** Feeds the last commands and resolves with their outcomes once it exits; call once. */
  run: (commands: readonly BatchCommand[]) => Promise<BatchOutcome>;
  /** Closes its input unfed: it exits having done nothing. */
  cancel: () => void;
}

/**
 * Starts `ip [-j] -batch -` now, or once `when` settles (startCommandWhen), inside `netns` when
 * given; its commands follow with `run`.
 */
export function startIpBatch(
  options: BatchOptions & { json: boolean; when?: Promise<void> },
): StartedBatch {
  const argv = batchArgv(options, options.json);
  const force = options.force === true;
  const commandOptions = {
    stdin: true,
    timeoutMs: options.timeoutMs,
    step: options.step,
    ...(options.extraFds === undefined ? {} : { extraFds: options.extraFds }),
  };
  const started =
    options.when === undefined
      ? startCommand(argv, commandOptions)
      : startCommandWhen(options.when, argv, commandOptions);
  // iproute2 numbers lines (`Command failed -:N`) and prints show output across all exchanges.
  const sent: BatchCommand[] = [];
  const outcomeOf = (
    commands: readonly BatchCommand[],
    result: { code: number; stdout: string; stderr: string },
  ): BatchOutcome => {
    const offset = sent.length;
    const all = [...sent, ...commands];
    sent.push(...commands);
    // No line marked failed but a failed exit (nsenter could not enter, ip crashed): these fail.
    const wholesale = result.code !== 0 && parseBatchFailures(result.stderr).size === 0;
    return {
      lines: wholesale
        ? assignOutcomes(commands, result, force)
        : assignOutcomes(all, result, force).slice(offset),
      stderr: result.stderr,
      argv,
    };
  };
  return {
    exchange: async (commands) => {
      if (commands.at(-1)?.prints !== true) {
        throw new Error(`${options.step}: an exchange must end with a printing command`);
      }
      const all = [...sent, ...commands];
      const answer = await started.exchange(batchText(commands), (printed) =>
        lastLineAnswered(all, printed),
      );
      return outcomeOf(commands, answer.exited ?? { code: 0, ...answer });
    },
    run: async (commands) => {
      started.feed(batchText(commands));
      return outcomeOf(commands, await started.output);
    },
    cancel: started.cancel,
  };
}

/** The lines of a batch as iproute2 reads them (from stdin, or a file). */
export function batchText(commands: readonly BatchCommand[]): string {
  return commands.map((c) => `${c.command}\n`).join('');
}

/** Whether iproute2 has printed the outcome of the last of `commands` (a printing one). */
function lastLineAnswered(
  commands: readonly BatchCommand[],
  printed: { stdout: string; stderr: string },
): boolean {
  const failures = parseBatchFailures(printed.stderr);
  if (failures.has(commands.length)) return true;
  const printing = commands.filter((c, i) => c.prints === true && !failures.has(i + 1)).length;
  const complete = printed.stdout
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.trim() !== '').length;
  return complete >= printing;
}

/**
 * Attribute iproute2's output to the lines of a batch: `Command failed -:N` closes the messages
 * of line N; each successful `show` line owns one stdout line; without `-force` nothing runs
 * after the first failure. A non-zero exit without any such marker (nsenter could not enter the
 * namespace, ip crashed) fails the whole batch.
 */
export function assignOutcomes(
  commands: readonly BatchCommand[],
  result: { code: number; stdout: string; stderr: string },
  force: boolean,
): LineOutcome[] {
  const failures = parseBatchFailures(result.stderr);
  if (result.code !== 0 && failures.size === 0) {
    const error = result.stderr.trim() || `exit status ${result.code}`;
    return commands.map((_, i) => (i === 0 ? { status: 'failed', error } : { status: 'not-run' }));
  }
  const stdout = result.stdout.split('\n').filter((l) => l.trim() !== '');
  let next = 0;
  let stopped = false;
  return commands.map((c, i): LineOutcome => {
    if (stopped) return { status: 'not-run' };
    const error = failures.get(i + 1);
    if (error !== undefined) {
      if (!force) stopped = true;
      return { status: 'failed', error };
    }
    if (c.prints !== true) return { status: 'ok', output: undefined };
    const output = stdout[next];
    next += 1;
    return { status: 'ok', output };
  });
}

/**
 * Line number (1-based) → iproute2's messages for it, from the stderr of a batch read from stdin.
 * A batch it runs (`netns exec POD ip -batch FILE`) writes to the same stderr: its messages and
 * `Command failed FILE:N` markers go to the line that ran it (see nestedFailure).
 */
export function parseBatchFailures(stderr: string): Map<number, string> {
  const failures = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const marker = /^Command failed -:(\d+)$/.exec(line.trim());
    if (marker?.[1] !== undefined) {
      failures.set(Number(marker[1]), pending.join('; ') || 'failed without a message');
      pending = [];
    } else if (line.trim() !== '') {
      pending.push(line.trim());
    }
  }
  return failures;
}

/**
 * Which line of a nested batch (`ip -batch FILE`, run by one line of another batch) failed, with
 * its messages, from the error of the line that ran it; undefined when it failed before reading
 * a line (it could not enter the netns, say).
 */
export function nestedFailure(
  error: string,
  file: string,
): { index: number; error: string } | undefined {
  const parts = error.split('; ');
  const at = parts.findIndex((p) => p.startsWith(`Command failed ${file}:`));
  const line = Number(parts[at]?.slice(`Command failed ${file}:`.length));
  if (at < 0 || !Number.isInteger(line) || line < 1) return undefined;
  return { index: line - 1, error: parts.slice(0, at).join('; ') || 'failed without a message' };
}

/** The first line that did not succeed, with its index. */
export function firstFailure(outcome: BatchOutcome): { index: number; error: string } | undefined {
  for (const [index, line] of outcome.lines.entries()) {
    if (line.status === 'failed') return { index, error: line.error };
  }
  return undefined;
}

/** CniError 122 for a failed batch line: the step, the command and iproute2's own words. */
export function batchLineError(
  step: string,
  commands: readonly BatchCommand[],
  outcome: BatchOutcome,
  failure: { index: number; error: string },
): CniError {
  const command = commands[failure.index]?.command ?? '?';
  return new CniError(
    ErrorCode.dataplaneFailed,
    `${step}: "ip ${command}" failed: ${failure.error}`,
    describeArgv(outcome.argv),
  );
}

/** Throw unless every line succeeded; returns the outputs of the printing lines by index. */
export function requireAllOk(
  step: string,
  commands: readonly BatchCommand[],
  outcome: BatchOutcome,
): (string | undefined)[] {
  const failure = firstFailure(outcome);
  if (failure !== undefined) throw batchLineError(step, commands, outcome, failure);
  return outcome.lines.map((l) => (l.status === 'ok' ? l.output : undefined));
}
