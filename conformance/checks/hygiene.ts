import { attach, detach } from '../attach';
import {
  cniEnv,
  confText,
  newContainerId,
  ANY_KIND,
  type Check,
  type ExecRecord,
  type HarnessContext,
} from '../context';
import { describeExec } from '../expect';
import { withPod } from '../leftovers';
import { fail, na, pass, PROBLEM_SEPARATOR, type Outcome } from '../outcome';
import { errorObjectProblems, isObject, parseStdout, snippet } from '../stdout';
import { atLeast } from '../versions';

/** Codes below 100 with a meaning in the spec, plus libcni's 8 (own netns). */
const WELL_KNOWN = new Set([1, 2, 3, 4, 5, 6, 7, 8, 11, 50, 51]);

/** Result keys that must never precede or accompany an error object. */
const RESULT_KEYS = ['ips', 'interfaces', 'ip4', 'ip6', 'routes'];

const toured = new WeakSet<object>();

/**
 * Exercise every verb once so the hygiene items see success and failure output of each: ADD,
 * CHECK with prevResult, DEL twice, STATUS/GC when 1.1.0 is advertised, and an ADD that fails
 * late (main: ifname already present in the pod; IPAM: its single-address range exhausted).
 */
async function tour(ctx: HarnessContext): Promise<void> {
  if (toured.has(ctx.runner)) return;
  toured.add(ctx.runner);
  const item = ctx.runner.item;
  ctx.runner.item = 'J tour';
  try {
    await verbTour(ctx);
  } finally {
    ctx.runner.item = item;
  }
}

/** The executions of the tour. */
async function verbTour(ctx: HarnessContext): Promise<void> {
  const attempt = await attach(ctx, ctx.confs.make(ctx.version), { label: 'tour ADD' });
  if (attempt.ok) {
    const { att } = attempt;
    if (atLeast(ctx.version, '0.4.0')) {
      const prev = {
        ...(JSON.parse(att.stdin) as Record<string, unknown>),
        prevResult: att.result,
      };
      await ctx.runner.run({
        env: { ...att.env, CNI_COMMAND: 'CHECK' },
        stdin: JSON.stringify(prev),
        note: 'tour CHECK',
      });
    }
    if (ctx.kind === 'ipam' && ctx.confs.harnessOwned) {
      // The range holds one address: this ADD must fail after input validation.
      const second = await attach(ctx, JSON.parse(att.stdin) as Record<string, unknown>, {
        env: { CNI_CONTAINERID: newContainerId() },
        label: 'tour ADD into an exhausted range',
      });
      if (second.ok) await detach(ctx, second.att);
    }
    await detach(ctx, att);
    await ctx.runner.run({
      env: { ...att.env, CNI_COMMAND: 'DEL' },
      stdin: att.stdin,
      note: 'DEL again',
    });
  }
  if (ctx.supported.includes('1.1.0')) {
    const env = { CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '' };
    const verbs = ctx.confs.harnessOwned ? ['STATUS', 'GC'] : ['STATUS'];
    for (const cmd of verbs) {
      await ctx.runner.run({
        env: cniEnv(ctx, cmd, env),
        stdin: confText(ctx, '1.1.0'),
        note: `tour ${cmd}`,
      });
    }
  }
  if (ctx.kind === 'main' && ctx.sandbox !== undefined) {
    const sandbox = ctx.sandbox;
    await withPod(ctx, async (pod) => {
      if (pod === undefined) return;
      await sandbox.addLink(pod.name, 'eth0');
      const env = cniEnv(ctx, 'ADD', { CNI_NETNS: pod.path });
      const stdin = confText(ctx);
      await ctx.runner.run({ env, stdin, note: 'tour ADD onto an existing eth0' });
      await ctx.runner.run({ env: { ...env, CNI_COMMAND: 'DEL' }, stdin, note: 'tour DEL' });
    });
  }
}

/** `item command note` of a record, for reasons. */
function where(r: ExecRecord): string {
  return `${r.item} ${r.command}${r.note === '' ? '' : ` (${r.note})`}`;
}

/** At most this many kinds of problem are spelled out in a reason. */
const MAX_KINDS = 4;

/**
 * Judge every record: `judge` returns null for irrelevant ones, undefined for good ones and a
 * problem text otherwise. Fails with one segment per kind of problem (count and an example).
 */
async function overRecords(
  ctx: HarnessContext,
  what: string,
  judge: (r: ExecRecord) => string | undefined | null,
): Promise<Outcome> {
  await tour(ctx);
  const relevant = ctx.runner.records
    .filter((r) => !(r.killTimer && r.timedOut))
    .map((r) => ({ r, v: judge(r) }))
    .filter((x): x is { r: ExecRecord; v: string | undefined } => x.v !== null);
  if (relevant.length === 0) return na(`no ${what} was observed`);
  const kinds = new Map<string, ExecRecord[]>();
  for (const { r, v } of relevant) if (v !== undefined) kinds.set(v, [...(kinds.get(v) ?? []), r]);
  if (kinds.size === 0) return pass();
  const segments = [...kinds].slice(0, MAX_KINDS).map(([v, rs]) => {
    const first = rs[0];
    return `${v} (${rs.length} of ${relevant.length} ${what}s${first ? `, e.g. ${where(first)}` : ''})`;
  });
  if (kinds.size > MAX_KINDS) segments.push(`${kinds.size - MAX_KINDS} more kinds of problem`);
  return fail(segments.join(PROBLEM_SEPARATOR));
}

/** True for an execution that did not exit 0. */
const failed = (r: ExecRecord): boolean => r.exitCode !== 0;

/** J92: every failure is a non-zero exit with one well-formed error object (cniVersion if known). */
function errorShape(ctx: HarnessContext): Promise<Outcome> {
  return overRecords(ctx, 'failing execution', (r) => {
    if (!failed(r)) return null;
    if (r.exitCode === null) return describeExec(r);
    const shape = parseStdout(r.stdout);
    if (shape.kind !== 'one') return `stdout ${shape.kind === 'empty' ? 'empty' : shape.reason}`;
    const problems = errorObjectProblems(shape.value);
    if (problems.length > 0) return problems.join(', ');
    const { cniVersion: got, code } = shape.value as { cniVersion?: string; code: number };
    // Environment errors (3, 4) come before stdin is read (skel order), so no version is known yet.
    const envStage = code === 3 || code === 4;
    const known = r.configVersion !== undefined && ctx.supported.includes(r.configVersion);
    if (known && !envStage && r.command !== 'VERSION' && got !== r.configVersion) {
      return got === undefined
        ? 'error object lacks cniVersion although the config version is known'
        : `error cniVersion ${got}, config says ${r.configVersion}`;
    }
    return undefined;
  });
}

/** J93: codes 1–99 only with their spec meaning; no code 0 or below. */
function wellKnownCodes(ctx: HarnessContext): Promise<Outcome> {
  return overRecords(ctx, 'error object', (r) => {
    if (!failed(r)) return null;
    const shape = parseStdout(r.stdout);
    if (shape.kind !== 'one' || !isObject(shape.value)) return null;
    const code = shape.value.code;
    if (typeof code !== 'number') return null;
    if (code <= 0) return `code ${code}`;
    if (code < 100 && !WELL_KNOWN.has(code)) return `code ${code} has no meaning in the spec`;
    if ((code === 50 || code === 51) && r.command !== 'STATUS')
      return `code ${code} outside STATUS`;
    return undefined;
  });
}

/** J94: no log text on stdout for any verb, success or failure. */
function noLogsOnStdout(ctx: HarnessContext): Promise<Outcome> {
  return overRecords(ctx, 'execution', (r) => {
    if (r.exitCode === null) return null;
    const shape = parseStdout(r.stdout);
    return shape.kind === 'invalid' && !shape.reason.startsWith('a second JSON')
      ? `stdout ${shape.reason}`
      : undefined;
  });
}

/** J95: never exit 0 while printing an error object. */
function noSuccessfulErrors(ctx: HarnessContext): Promise<Outcome> {
  return overRecords(ctx, 'successful execution', (r) => {
    if (r.exitCode !== 0) return null;
    const shape = parseStdout(r.stdout);
    return shape.kind === 'one' && isObject(shape.value) && 'code' in shape.value
      ? `exit 0 with ${snippet(r.stdout, 100)}`
      : undefined;
  });
}

/** J96: stdout is never two JSON documents or JSON followed by other text. */
function oneDocument(ctx: HarnessContext): Promise<Outcome> {
  return overRecords(ctx, 'execution', (r) => {
    if (r.exitCode === null) return null;
    const shape = parseStdout(r.stdout);
    return shape.kind === 'invalid' ? `stdout ${shape.reason}` : undefined;
  });
}

/** J97: a failing ADD prints only the error object, no partial result. */
function noPartialResult(ctx: HarnessContext): Promise<Outcome> {
  return overRecords(ctx, 'failing ADD', (r) => {
    if (r.command !== 'ADD' || !failed(r) || r.exitCode === null) return null;
    const shape = parseStdout(r.stdout);
    if (shape.kind !== 'one' || !isObject(shape.value)) {
      return `stdout ${shape.kind === 'invalid' ? shape.reason : shape.kind}`;
    }
    const value = shape.value;
    const leaked = RESULT_KEYS.filter((k) => k in value);
    return leaked.length > 0 ? `error object carries result keys ${leaked.join(', ')}` : undefined;
  });
}

/** Checklist group J: output hygiene and errors, judged over every execution of the run. */
export const hygieneChecks: readonly Check[] = [
  { id: 'J92', title: 'failures print one error object', kinds: ANY_KIND, run: errorShape },
  { id: 'J93', title: 'well-known error codes', kinds: ANY_KIND, run: wellKnownCodes },
  { id: 'J94', title: 'no logs on stdout', kinds: ANY_KIND, run: noLogsOnStdout },
  { id: 'J95', title: 'no exit 0 with an error', kinds: ANY_KIND, run: noSuccessfulErrors },
  { id: 'J96', title: 'stdout holds one JSON document', kinds: ANY_KIND, run: oneDocument },
  {
    id: 'J97',
    title: 'failed ADD prints no partial result',
    kinds: ANY_KIND,
    run: noPartialResult,
  },
];
