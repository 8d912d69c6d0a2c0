import { attach, checkReleased, detach } from '../attach';
import { cniEnv, confText, ANY_KIND, type Check, type HarnessContext } from '../context';
import { checkError, checkExitZero, describeExec, errorOf, rejection } from '../expect';
import { watchState, withPod } from '../leftovers';
import { fail, na, verdict, type Outcome } from '../outcome';
import { parseStdout } from '../stdout';
import { versionProblem } from '../version-info';
import { checkVersion } from '../versions';

const FOUR_VARS = ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'] as const;

/** n/a reason for CHECK items when no advertised version allows CHECK. */
const NO_CHECK = 'plugin advertises no version >= 0.4.0, so it has no CHECK';

/** A1: no CNI_COMMAND → banner on stderr with exit 0, or code 4 naming CNI_COMMAND; no changes. */
async function noCommand(ctx: HarnessContext): Promise<Outcome> {
  return withPod(ctx, async (pod) => {
    const changed = await watchState(ctx, pod);
    const netns = pod === undefined ? {} : { CNI_NETNS: pod.path };
    const r = await ctx.runner.run({
      env: cniEnv(ctx, undefined, netns),
      stdin: confText(ctx),
      note: 'no CNI_COMMAND',
    });
    const banner = r.exitCode === 0 && parseStdout(r.stdout).kind === 'empty';
    const code4 =
      checkError(r, { code: 4, msgHas: ['CNI_COMMAND'] }, 'no CNI_COMMAND') === undefined;
    const diff = await changed();
    return verdict([
      banner || code4
        ? undefined
        : `want exit 0 with empty stdout, or code 4 naming CNI_COMMAND; got ${describeExec(r)}`,
      diff === undefined ? undefined : `network state changed: ${diff}`,
    ]);
  });
}

/** A2: an unknown or lowercase command → code 4 `unknown CNI_COMMAND: X`. */
async function unknownCommand(ctx: HarnessContext): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  for (const cmd of ['FOO', 'add']) {
    const r = await ctx.runner.run({
      env: cniEnv(ctx, cmd),
      stdin: confText(ctx),
      note: `CNI_COMMAND=${cmd}`,
    });
    problems.push(checkError(r, { code: 4, msgHas: ['unknown CNI_COMMAND', cmd] }, cmd));
  }
  return verdict(problems);
}

/** A3: ADD with the four variables unset → code 4 naming all four. */
async function fourUnset(ctx: HarnessContext): Promise<Outcome> {
  const r = await ctx.runner.run({
    env: { CNI_COMMAND: 'ADD' },
    stdin: confText(ctx),
    note: 'ADD with only CNI_COMMAND',
  });
  return verdict([checkError(r, { code: 4, msgHas: FOUR_VARS }, 'ADD')]);
}

/** A4: a required variable set to "" behaves as unset (code 4 naming it; same answer as A3). */
async function emptyIsUnset(ctx: HarnessContext): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  const vars = ctx.kind === 'main' ? FOUR_VARS : FOUR_VARS.filter((v) => v !== 'CNI_PATH');
  for (const v of vars) {
    const r = await ctx.runner.run({
      env: cniEnv(ctx, 'ADD', { [v]: '' }),
      stdin: confText(ctx),
      note: `ADD with ${v}=""`,
    });
    problems.push(checkError(r, { code: 4, msgHas: [v] }, `${v}=""`));
  }
  const stdin = confText(ctx);
  const unset = await ctx.runner.run({ env: { CNI_COMMAND: 'ADD' }, stdin, note: 'four unset' });
  const empty = await ctx.runner.run({
    env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '', CNI_PATH: '' },
    stdin,
    note: 'four empty',
  });
  const a = errorOf(unset);
  const b = errorOf(empty);
  if (a?.code !== b?.code || a?.msg !== b?.msg) {
    problems.push(`four empty: ${describeExec(empty)}; four unset: ${describeExec(unset)}`);
  }
  return verdict(problems);
}

/** A5: CHECK without CNI_NETNS → code 4 naming CNI_NETNS. */
async function checkWithoutNetns(ctx: HarnessContext): Promise<Outcome> {
  const version = checkVersion(ctx);
  if (version === undefined) return na(NO_CHECK);
  const r = await ctx.runner.run({
    env: cniEnv(ctx, 'CHECK', { CNI_NETNS: undefined }),
    stdin: confText(ctx, version),
    note: 'CHECK without CNI_NETNS',
  });
  return verdict([checkError(r, { code: 4, msgHas: ['CNI_NETNS'] }, 'CHECK')]);
}

/** A6: DEL without CNI_NETNS after an ADD → exit 0 and the address is released. */
async function delWithoutNetns(ctx: HarnessContext): Promise<Outcome> {
  const conf = ctx.confs.make(ctx.version);
  const attempt = await attach(ctx, conf);
  if (!attempt.ok) return attempt.outcome;
  const r = await detach(ctx, attempt.att, { CNI_NETNS: undefined });
  const exit = checkExitZero(r, 'DEL without CNI_NETNS');
  if (exit === undefined) return checkReleased(ctx, conf);
  await detach(ctx, attempt.att);
  return fail(exit);
}

/** A7: DEL without CNI_CONTAINERID or without CNI_IFNAME → code 4 naming it. */
async function delWithoutIds(ctx: HarnessContext): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  for (const v of ['CNI_CONTAINERID', 'CNI_IFNAME']) {
    const r = await ctx.runner.run({
      env: cniEnv(ctx, 'DEL', { [v]: undefined }),
      stdin: confText(ctx),
      note: `DEL without ${v}`,
    });
    problems.push(checkError(r, { code: 4, msgHas: [v] }, `DEL without ${v}`));
  }
  return verdict(problems);
}

/** A8: ADD/CHECK/DEL without CNI_PATH → code 4 naming CNI_PATH (main plugins). */
async function withoutPath(ctx: HarnessContext): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  const check = checkVersion(ctx);
  for (const cmd of ['ADD', 'DEL', ...(check === undefined ? [] : ['CHECK'])]) {
    const r = await ctx.runner.run({
      env: cniEnv(ctx, cmd, { CNI_PATH: undefined }),
      stdin: confText(ctx, cmd === 'CHECK' ? check : ctx.version),
      note: `${cmd} without CNI_PATH`,
    });
    problems.push(checkError(r, { code: 4, msgHas: ['CNI_PATH'] }, cmd));
  }
  return verdict(problems);
}

/** A9: VERSION with only CNI_COMMAND and stdin closed or empty → success. */
async function versionBare(ctx: HarnessContext): Promise<Outcome> {
  const env = { CNI_COMMAND: 'VERSION' };
  const closed = await ctx.runner.run({ env, note: 'VERSION, stdin /dev/null' });
  const empty = await ctx.runner.run({ env, stdin: '', note: 'VERSION, empty stdin' });
  return verdict([versionProblem(closed, 'stdin /dev/null'), versionProblem(empty, 'empty stdin')]);
}

/** A10: VERSION with libcni's probe environment → success. */
async function versionProbe(ctx: HarnessContext): Promise<Outcome> {
  const r = await ctx.runner.run({
    env: {
      CNI_COMMAND: 'VERSION',
      CNI_CONTAINERID: '',
      CNI_NETNS: 'dummy',
      CNI_IFNAME: 'dummy',
      CNI_PATH: 'dummy',
    },
    stdin: '{"cniVersion":"1.1.0"}',
    note: 'libcni VERSION probe',
  });
  return verdict([versionProblem(r, 'VERSION')]);
}

/** A11: GC/STATUS with empty container variables → no complaint about them. */
async function gcStatusEnv(ctx: HarnessContext): Promise<Outcome> {
  if (!ctx.supported.includes('1.1.0')) {
    return na('plugin does not advertise 1.1.0, so it has no GC or STATUS');
  }
  const problems: (string | undefined)[] = [];
  // GC without attachment keys should release nothing, but only risk it on our own private store.
  const verbs = ctx.confs.harnessOwned ? ['STATUS', 'GC'] : ['STATUS'];
  for (const cmd of verbs) {
    const r = await ctx.runner.run({
      env: cniEnv(ctx, cmd, { CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '' }),
      stdin: confText(ctx, '1.1.0'),
      note: `${cmd} with empty container variables`,
    });
    problems.push(
      rejection(
        r,
        ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'containerID', 'interface name'],
        cmd,
      ),
    );
  }
  return verdict(problems);
}

/** Checklist group A, items 1–11: commands and required variables. */
export const invocationChecks: readonly Check[] = [
  { id: 'A1', title: 'no CNI_COMMAND', kinds: ANY_KIND, run: noCommand },
  { id: 'A2', title: 'unknown CNI_COMMAND', kinds: ANY_KIND, run: unknownCommand },
  { id: 'A3', title: 'ADD without the four variables', kinds: ANY_KIND, run: fourUnset },
  { id: 'A4', title: 'empty variable counts as unset', kinds: ANY_KIND, run: emptyIsUnset },
  { id: 'A5', title: 'CHECK without CNI_NETNS', kinds: ANY_KIND, run: checkWithoutNetns },
  {
    id: 'A6',
    title: 'DEL without CNI_NETNS releases',
    kinds: ANY_KIND,
    run: delWithoutNetns,
  },
  {
    id: 'A7',
    title: 'DEL without container ID or ifname',
    kinds: ANY_KIND,
    run: delWithoutIds,
  },
  { id: 'A8', title: 'main plugin without CNI_PATH', kinds: ['main'], run: withoutPath },
  { id: 'A9', title: 'VERSION with only CNI_COMMAND', kinds: ANY_KIND, run: versionBare },
  { id: 'A10', title: 'VERSION with libcni probe env', kinds: ANY_KIND, run: versionProbe },
  {
    id: 'A11',
    title: 'GC/STATUS ignore container vars',
    kinds: ANY_KIND,
    run: gcStatusEnv,
  },
];
