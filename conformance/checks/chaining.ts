import { existsSync } from 'node:fs';
import { attach, detach, withAttachment } from '../attach';
import { EXEC_TIMEOUT_MS, RUNTIME_PATH, type Check, type HarnessContext } from '../context';
import { execPlugin } from '../exec-plugin';
import { describeExec } from '../expect';
import { withPod } from '../leftovers';
import { na, NEEDS_ROOT, pass, verdict, type Outcome } from '../outcome';
import { entries } from '../result-shape';
import { errorOf } from '../expect';
import { readVersionInfo } from '../version-info';
import { atLeast } from '../versions';

// Checklist E58–E61: the plugin placed second in a chain gets the first plugin's result as
// prevResult, and its own result must be readable by the next (Go) plugin.

/** A first plugin's result in the shape of `version` (`ips[].version` below 1.0.0). */
export function firstPluginResult(
  version: string | undefined,
  sandbox: string,
): Record<string, unknown> {
  const legacy = version !== undefined && !atLeast(version, '1.0.0');
  return {
    ...(version === undefined ? {} : { cniVersion: version }),
    interfaces: [{ name: 'cnf-prev0', mac: '02:00:00:00:00:01', sandbox }],
    ips: [{ ...(legacy ? { version: '4' } : {}), address: '10.99.0.5/24', interface: 0 }],
    routes: [{ dst: '10.99.0.0/16' }],
    dns: { nameservers: ['10.99.0.53'] },
  };
}

/** Problems unless `result` kept prevResult's interfaces and ips, each ip on the same interface. */
export function mergeProblems(
  result: Record<string, unknown>,
  prev: Record<string, unknown>,
): string[] {
  const names = entries(result, 'interfaces').map((i) => i.name);
  const prevNames = entries(prev, 'interfaces').map((i) => i.name);
  const problems = prevNames
    .filter((n) => !names.includes(n))
    .map((n) => `prevResult interface ${String(n)} dropped`);
  for (const ip of entries(prev, 'ips')) {
    const kept = entries(result, 'ips').find((x) => x.address === ip.address);
    if (kept === undefined) {
      problems.push(`prevResult address ${String(ip.address)} dropped`);
      continue;
    }
    const was = typeof ip.interface === 'number' ? prevNames[ip.interface] : undefined;
    const now = typeof kept.interface === 'number' ? names[kept.interface] : undefined;
    if (was !== now) {
      problems.push(`${String(ip.address)} moved from interface ${String(was)} to ${String(now)}`);
    }
  }
  return problems;
}

/** ADD with `prev` as prevResult at `version`: merged, or an explicit JSON error. */
async function chainedAdd(
  ctx: HarnessContext,
  version: string,
  makePrev: (sandbox: string) => Record<string, unknown>,
  label: string,
): Promise<string[]> {
  if (ctx.sandbox === undefined) return [NEEDS_ROOT];
  const problems: string[] = [];
  await withPod(ctx, async (pod) => {
    if (pod === undefined) return;
    const prev = makePrev(pod.path);
    const conf = { ...ctx.confs.make(version), prevResult: prev };
    const attempt = await attach(ctx, conf, { label });
    if (attempt.ok) {
      problems.push(
        ...mergeProblems(attempt.att.result, prev).map((p) => `${label}: ${p} (silently)`),
      );
      await detach(ctx, attempt.att);
    } else if (attempt.outcome.status === 'fail') {
      // An explicit refusal is allowed; a crash or a non-JSON failure is not.
      if (attempt.record === undefined || errorOf(attempt.record) === undefined) {
        problems.push(attempt.outcome.reason);
      }
    } else if (attempt.outcome.status === 'n/a') problems.push(attempt.outcome.reason);
  });
  return problems;
}

/** E58: prevResult in the config version is merged (or refused), never dropped. */
async function mergesPrevResult(ctx: HarnessContext): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const v = ctx.version;
  return verdict(
    await chainedAdd(ctx, v, (s) => firstPluginResult(v, s), `ADD at ${v} with prevResult`),
  );
}

/** E59: prevResult without cniVersion is read in the config version. */
async function unversionedPrev(ctx: HarnessContext): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const v = ctx.version;
  const shape = (s: string): Record<string, unknown> => {
    const prev = firstPluginResult(v, s);
    delete prev.cniVersion;
    return prev;
  };
  return verdict(await chainedAdd(ctx, v, shape, `ADD at ${v}, prevResult without cniVersion`));
}

/** E60: a 0.3.1-shaped prevResult under 0.3.1 and a 1.0-shaped one under 1.0.0 both parse. */
async function prevShapes(ctx: HarnessContext): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const versions = ['0.3.1', '1.0.0'].filter((v) => ctx.supported.includes(v));
  if (versions.length === 0) return na('plugin advertises neither 0.3.1 nor 1.0.0');
  const problems: string[] = [];
  for (const v of versions) {
    problems.push(
      ...(await chainedAdd(
        ctx,
        v,
        (s) => firstPluginResult(v, s),
        `ADD at ${v} with a ${v} prevResult`,
      )),
    );
  }
  return verdict(problems);
}

/** The Go plugin placed after ours in E61: Debian's tuning parses prevResult in the config version. */
const NEXT_PLUGIN = '/usr/lib/cni/tuning';

/** E61: our result, as prevResult of a Go plugin at the same version, is accepted by it. */
async function feedsNextPlugin(ctx: HarnessContext): Promise<Outcome> {
  const sandbox = ctx.sandbox;
  if (sandbox === undefined) return na(NEEDS_ROOT);
  if (!existsSync(NEXT_PLUGIN)) {
    return na(`${NEXT_PLUGIN} missing (Debian package containernetworking-plugins)`);
  }
  const run = (env: Record<string, string>, stdin?: string) =>
    execPlugin(NEXT_PLUGIN, {
      env: { PATH: RUNTIME_PATH, ...env },
      stdin,
      timeoutMs: EXEC_TIMEOUT_MS,
      wrapper: sandbox.wrapper,
    });
  const info = readVersionInfo(await run({ CNI_COMMAND: 'VERSION' }, ''));
  const theirs = typeof info === 'string' ? [] : info.supportedVersions;
  const versions = ctx.supported.filter((v) => theirs.includes(v) && atLeast(v, '0.3.0'));
  if (versions.length === 0) return na(`no version both this plugin and ${NEXT_PLUGIN} support`);
  const problems: string[] = [];
  for (const v of versions) {
    const outcome = await withAttachment(
      ctx,
      ctx.confs.make(v),
      { label: `ADD at ${v}` },
      async (att) => {
        const env: Record<string, string> = { CNI_PATH: ctx.cniPath };
        for (const [k, val] of Object.entries(att.env)) if (val !== undefined) env[k] = val;
        const next = { cniVersion: v, name: 'cnf-net', type: 'tuning', prevResult: att.result };
        const r = await run(env, JSON.stringify(next));
        await run({ ...env, CNI_COMMAND: 'DEL' }, JSON.stringify(next));
        return r.exitCode === 0
          ? pass()
          : verdict([`tuning ADD at ${v} on our result: ${describeExec(r)}`]);
      },
    );
    if (outcome.status === 'n/a') return outcome;
    if (outcome.status === 'fail') problems.push(outcome.reason);
  }
  return verdict(problems);
}

/** Checklist group E: prevResult and chaining. */
export const chainingChecks: readonly Check[] = [
  {
    id: 'E58',
    title: 'prevResult merged or refused, never dropped',
    kinds: ['main'],
    run: mergesPrevResult,
  },
  { id: 'E59', title: 'prevResult without cniVersion', kinds: ['main'], run: unversionedPrev },
  { id: 'E60', title: 'prevResult in 0.3.1 and 1.0 shapes', kinds: ['main'], run: prevShapes },
  {
    id: 'E61',
    title: 'result accepted by the next Go plugin',
    kinds: ['main'],
    run: feedsNextPlugin,
  },
];
