import { attach, detach, withAttachment } from '../attach';
import { cniEnv, confText, ANY_KIND, type Check, type HarnessContext } from '../context';
import { checkAnyError, checkError, isNotImplemented, rejection } from '../expect';
import { withPod } from '../leftovers';
import { fail, na, NOT_IMPLEMENTED, pass, verdict, type Outcome } from '../outcome';
import { readVersionInfo, versionProblem } from '../version-info';
import { checkVersion } from '../versions';

/** containerd's CNI_ARGS for a pod (checklist item 17). */
const K8S_ARGS =
  'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=c;K8S_POD_UID=u';

/** Variables a runtime's own environment carries into the plugin (checklist item 19). */
const INHERITED = {
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
  KUBERNETES_SERVICE_PORT: '443',
  TRACEPARENT: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  TRACESTATE: 'vendor=value',
  BAGGAGE: 'k=v',
  HOME: '/root',
  LANG: 'C.UTF-8',
  container: 'containerd',
};

/** A12: container IDs outside the spec regex → code 4 `invalid characters in containerID`. */
async function badContainerIds(ctx: HarnessContext): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  const check = checkVersion(ctx);
  for (const id of ['bad/cid', '-c1', '_cid', 'a b', 'ab$']) {
    for (const cmd of ['ADD', 'DEL', ...(check === undefined ? [] : ['CHECK'])]) {
      const r = await ctx.runner.run({
        env: cniEnv(ctx, cmd, { CNI_CONTAINERID: id }),
        stdin: confText(ctx, cmd === 'CHECK' ? check : ctx.version),
        note: `${cmd} cid ${JSON.stringify(id)}`,
      });
      const want = { code: 4, msgHas: ['invalid characters in containerID'], detailsHas: [id] };
      problems.push(checkError(r, want, `${cmd} cid ${JSON.stringify(id)}`));
    }
  }
  return verdict(problems);
}

/** A13: valid unusual container IDs are accepted (DEL of a never-added container). */
async function goodContainerIds(ctx: HarnessContext): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  for (const id of ['0123456789abcdef'.repeat(4), 'cnitool-1a2b3c', 'A.b_c-9']) {
    const r = await ctx.runner.run({
      env: cniEnv(ctx, 'DEL', { CNI_CONTAINERID: id, CNI_NETNS: undefined }),
      stdin: confText(ctx),
      note: `DEL cid ${id}`,
    });
    problems.push(rejection(r, ['containerID', 'CNI_CONTAINERID'], `DEL cid ${id}`));
  }
  return verdict(problems);
}

/** A14: a 16-byte ifname → code 4 `interface name is too long`; 15 bytes are accepted. */
async function ifnameLength(ctx: HarnessContext): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  // Eight two-byte characters: 8 characters but 16 bytes, and IFNAMSIZ counts bytes.
  for (const name of ['abcdefghijklmnop', 'é'.repeat(8)]) {
    const r = await ctx.runner.run({
      env: cniEnv(ctx, 'ADD', { CNI_IFNAME: name }),
      stdin: confText(ctx),
      note: `ADD ifname ${name}`,
    });
    problems.push(
      checkError(r, { code: 4, msgHas: ['interface name is too long'] }, `ifname ${name}`),
    );
  }
  const r = await ctx.runner.run({
    env: cniEnv(ctx, 'DEL', { CNI_IFNAME: 'abcdefghijklmno', CNI_NETNS: undefined }),
    stdin: confText(ctx),
    note: 'DEL ifname of 15 bytes',
  });
  problems.push(rejection(r, ['interface name', 'CNI_IFNAME'], 'DEL with a 15-byte ifname'));
  return verdict(problems);
}

/** ADD with each ifname in `names` → code 4. */
async function badIfnames(ctx: HarnessContext, names: readonly string[]): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  for (const name of names) {
    const r = await ctx.runner.run({
      env: cniEnv(ctx, 'ADD', { CNI_IFNAME: name }),
      stdin: confText(ctx),
      note: `ADD ifname ${JSON.stringify(name)}`,
    });
    problems.push(checkError(r, { code: 4 }, `ifname ${JSON.stringify(name)}`));
  }
  return verdict(problems);
}

/** A17: containerd's K8S_* CNI_ARGS → ADD succeeds. */
async function k8sArgs(ctx: HarnessContext): Promise<Outcome> {
  return withAttachment(
    ctx,
    ctx.confs.make(ctx.version),
    { env: { CNI_ARGS: K8S_ARGS }, label: 'ADD with K8S_* CNI_ARGS' },
    () => Promise.resolve(pass()),
  );
}

/** A18: CNI_ARGS pair without `=` → JSON error; unknown key → success or a JSON error. */
async function oddArgs(ctx: HarnessContext): Promise<Outcome> {
  const malformed = await withPod(ctx, async (pod) => {
    const env = cniEnv(ctx, 'ADD', { CNI_ARGS: 'FOO', ...(pod ? { CNI_NETNS: pod.path } : {}) });
    const stdin = confText(ctx);
    const r = await ctx.runner.run({ env, stdin, note: 'ADD CNI_ARGS=FOO' });
    if (r.exitCode === 0) await ctx.runner.run({ env: { ...env, CNI_COMMAND: 'DEL' }, stdin });
    return r;
  });
  const problem = checkAnyError(malformed, 'CNI_ARGS=FOO');
  if (problem !== undefined) return fail(problem);
  if (isNotImplemented(malformed)) return na(NOT_IMPLEMENTED);
  const unknown = await attach(ctx, ctx.confs.make(ctx.version), {
    env: { CNI_ARGS: 'FOO=bar' },
    label: 'ADD CNI_ARGS=FOO=bar',
  });
  if (unknown.ok) {
    await detach(ctx, unknown.att);
    return pass();
  }
  if (unknown.outcome.status === 'n/a' || unknown.record === undefined) return unknown.outcome;
  return verdict([checkAnyError(unknown.record, 'CNI_ARGS=FOO=bar')]);
}

/** A19: inherited runtime variables change nothing (VERSION identical, ADD succeeds). */
async function inheritedEnv(ctx: HarnessContext): Promise<Outcome> {
  const plain = await ctx.runner.run({ env: { CNI_COMMAND: 'VERSION' }, stdin: '' });
  const noisy = await ctx.runner.run({
    env: { CNI_COMMAND: 'VERSION', ...INHERITED },
    stdin: '',
    note: 'VERSION with inherited variables',
  });
  const a = readVersionInfo(plain);
  const b = readVersionInfo(noisy);
  if (typeof b === 'string') return fail(`VERSION with inherited variables: ${b}`);
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    return fail(`VERSION differs: ${plain.stdout.trim()} vs ${noisy.stdout.trim()}`);
  }
  return withAttachment(
    ctx,
    ctx.confs.make(ctx.version),
    { env: INHERITED, label: 'ADD with inherited variables' },
    () => Promise.resolve(pass()),
  );
}

/** A20: argv[0] only (every harness exec) → VERSION and ADD work. */
async function noArguments(ctx: HarnessContext): Promise<Outcome> {
  const r = await ctx.runner.run({ env: { CNI_COMMAND: 'VERSION' }, stdin: '' });
  const problem = versionProblem(r, 'VERSION');
  if (problem !== undefined) return fail(problem);
  return withAttachment(ctx, ctx.confs.make(ctx.version), {}, () => Promise.resolve(pass()));
}

/** Checklist group A, items 12–20: values of the variables, CNI_ARGS, environment, argv. */
export const envValueChecks: readonly Check[] = [
  { id: 'A12', title: 'invalid container IDs', kinds: ANY_KIND, run: badContainerIds },
  {
    id: 'A13',
    title: 'valid unusual container IDs',
    kinds: ANY_KIND,
    run: goodContainerIds,
  },
  {
    id: 'A14',
    title: 'ifname length limit (15 bytes)',
    kinds: ANY_KIND,
    run: ifnameLength,
  },
  {
    id: 'A15',
    title: 'ifname . and ..',
    kinds: ANY_KIND,
    run: (ctx) => badIfnames(ctx, ['.', '..']),
  },
  {
    id: 'A16',
    title: 'ifname with / : space tab',
    kinds: ANY_KIND,
    run: (ctx) => badIfnames(ctx, ['eth/0', 'eth:0', 'eth 0', 'eth\t0']),
  },
  { id: 'A17', title: 'containerd K8S_* CNI_ARGS', kinds: ANY_KIND, run: k8sArgs },
  { id: 'A18', title: 'odd CNI_ARGS', kinds: ANY_KIND, run: oddArgs },
  { id: 'A19', title: 'inherited environment ignored', kinds: ANY_KIND, run: inheritedEnv },
  { id: 'A20', title: 'no command-line arguments', kinds: ANY_KIND, run: noArguments },
];
