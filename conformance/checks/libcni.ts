import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ANY_KIND,
  newContainerId,
  RUNTIME_PATH,
  type Check,
  type HarnessContext,
} from '../context';
import { buildLibcniClient } from '../libcni-client';
import { withPod } from '../leftovers';
import type { NetConf } from '../netconf';
import { leftoverAllocations } from '../observe';
import { na, NEEDS_ROOT, verdict, type Outcome } from '../outcome';
import { addressOf, canonicalIp, entries } from '../result-shape';
import { isObject, snippet } from '../stdout';
import { atLeast } from '../versions';

// Checklist K98–K100: the plugin driven by libcni itself (conformance/libcni-client, Debian's
// libcni 1.1.x, the library of containerd, CRI-O and podman), inside the node netns.

/** Conflist versions libcni 1.1.x knows (it predates spec 1.1.0). */
const LIBCNI_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'];

/** What one client run gave. */
interface ClientRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built client per run, or why there is none. */
const clients = new WeakMap<object, Promise<{ path: string } | { missing: string }>>();

/** The libcni client, built (or found in its cache) once per run. */
function client(ctx: HarnessContext): Promise<{ path: string } | { missing: string }> {
  let c = clients.get(ctx.runner);
  if (c === undefined) {
    c = buildLibcniClient().catch((e: unknown) => ({
      missing: `build failed: ${e instanceof Error ? e.message : String(e)}`,
    }));
    clients.set(ctx.runner, c);
  }
  return c;
}

/** Run the client with `args` inside the node netns, environment PATH only (libcni adds CNI_*). */
function runClient(ctx: HarnessContext, path: string, args: readonly string[]): Promise<ClientRun> {
  const wrapper = ctx.sandbox?.wrapper ?? [];
  const [file = path, ...rest] = [...wrapper, path, ...args];
  return new Promise((resolve) => {
    execFile(
      file,
      rest,
      { env: { PATH: RUNTIME_PATH }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `conf` as a one-plugin conflist at `version`, written to a scratch file. */
function writeConflist(ctx: HarnessContext, conf: NetConf, version: string): string {
  const plugin: NetConf = { ...conf };
  delete plugin.cniVersion;
  delete plugin.name;
  const file = join(ctx.tmp.dir('conflist'), `${String(conf.name)}.conflist`);
  writeFileSync(file, JSON.stringify({ cniVersion: version, name: conf.name, plugins: [plugin] }));
  return file;
}

/** Versions both libcni 1.1.x and the plugin support. */
function versions(ctx: HarnessContext): string[] {
  return LIBCNI_VERSIONS.filter((v) => ctx.supported.includes(v));
}

/** One run's failure as a reason. */
function failed(label: string, r: ClientRun): string | undefined {
  return r.code === 0
    ? undefined
    : `${label}: exit ${r.code}: ${snippet(r.stderr || r.stdout, 200)}`;
}

/**
 * The config a K item runs. An IPAM under test runs behind Debian's `bridge` (no gateway mode):
 * ptp needs a gateway in the IPAM result, which Calico IPAM never gives (calico routes via
 * 169.254.1.1 instead), and cannot take a /32 from a one-address block. The wide variant, when
 * there is one, gives the usual /26 blocks.
 */
async function chainConf(ctx: HarnessContext, version: string): Promise<NetConf> {
  const conf = (await ctx.confs.variant?.('wide', version)) ?? ctx.confs.make(version);
  return ctx.kind === 'ipam' ? { ...conf, type: 'bridge', bridge: 'cnf-br0' } : conf;
}

/** A libcni session on one container in a fresh pod: add/check/del with one cache dir. */
async function session(
  ctx: HarnessContext,
  version: string,
  body: (
    verb: (v: string) => Promise<ClientRun>,
    cacheFile: string,
    pod: string,
  ) => Promise<(string | undefined)[]>,
): Promise<(string | undefined)[]> {
  const built = await client(ctx);
  if ('missing' in built) return [`libcni client unavailable: ${built.missing}`];
  const conf = await chainConf(ctx, version);
  const list = writeConflist(ctx, conf, version);
  const cacheDir = ctx.tmp.dir('libcni-cache');
  const cid = newContainerId();
  return withPod(ctx, async (pod) => {
    if (pod === undefined) return [NEEDS_ROOT];
    const flags = [
      '--conflist',
      list,
      '--netns',
      pod.path,
      '--container-id',
      cid,
      '--ifname',
      'eth0',
      '--cache-dir',
      cacheDir,
      '--bin-dir',
      ctx.cniPath,
    ];
    const verb = (v: string): Promise<ClientRun> => runClient(ctx, built.path, [v, ...flags]);
    try {
      return await body(
        verb,
        join(cacheDir, 'results', `${String(conf.name)}-${cid}-eth0`),
        pod.path,
      );
    } finally {
      await verb('del');
    }
  });
}

/** Unavailable client → n/a (never a pass), else the verdict. */
async function guarded(
  ctx: HarnessContext,
  run: () => Promise<(string | undefined)[]>,
): Promise<Outcome> {
  if (ctx.sandbox === undefined) return na(NEEDS_ROOT);
  const built = await client(ctx);
  if ('missing' in built) return na(`libcni client unavailable: ${built.missing}`);
  if (versions(ctx).length === 0)
    return na(`plugin supports none of ${LIBCNI_VERSIONS.join(', ')}`);
  return verdict(await run());
}

/** K98: ADD, CHECK (0.4.0+), DEL, DEL again through libcni; the cache file comes and goes. */
function throughLibcni(ctx: HarnessContext): Promise<Outcome> {
  return guarded(ctx, async () => {
    const problems: (string | undefined)[] = [];
    for (const v of versions(ctx)) {
      await ctx.confs.reset?.();
      const conf = await chainConf(ctx, v);
      problems.push(
        ...(await session(ctx, v, async (verb, cacheFile) => {
          const add = await verb('add');
          if (add.code !== 0) return [failed(`${v} add`, add)];
          const cached = existsSync(cacheFile);
          const check = atLeast(v, '0.4.0') ? await verb('check') : undefined;
          const del = await verb('del');
          const gone = !existsSync(cacheFile);
          const again = await verb('del');
          return [
            cached ? undefined : `${v}: no cache file ${cacheFile} after add`,
            check === undefined ? undefined : failed(`${v} check`, check),
            failed(`${v} del`, del),
            gone ? undefined : `${v}: cache file still there after del`,
            failed(`${v} del again`, again),
            await leftoverAllocations(ctx, conf, `${v} after del`),
          ];
        })),
      );
    }
    return problems;
  });
}

/**
 * The interface name containerd's go-cni files each IP under: `interfaces[i].name` for an index
 * it accepts (its bound check is `> len`, so i = len slips through and would panic), else `eth0`.
 */
export function goCniGroups(result: Record<string, unknown>): Map<string, string[]> | string {
  const interfaces = entries(result, 'interfaces');
  const groups = new Map<string, string[]>();
  for (const ip of entries(result, 'ips')) {
    const i = ip.interface;
    let name = 'eth0';
    if (typeof i === 'number') {
      if (i < 0 || i >= interfaces.length)
        return `ips[] interface ${i} is out of range (${interfaces.length} interfaces)`;
      name = String(interfaces[i]?.name);
    }
    groups.set(name, [...(groups.get(name) ?? []), canonicalIp(addressOf(String(ip.address)))]);
  }
  return groups;
}

/** K99: a containerd-style consumer finds the pod IP under eth0, and it is on eth0. */
function containerdView(ctx: HarnessContext): Promise<Outcome> {
  const sandbox = ctx.sandbox;
  return guarded(ctx, async () => {
    const v = versions(ctx).pop() ?? '1.0.0';
    return session(ctx, v, async (verb, _cache, podPath) => {
      const add = await verb('add');
      if (add.code !== 0) return [failed(`${v} add`, add)];
      let result: unknown;
      try {
        result = JSON.parse(add.stdout);
      } catch {
        return [`add printed no JSON: ${snippet(add.stdout, 120)}`];
      }
      if (!isObject(result)) return ['add printed no result object'];
      const groups = goCniGroups(result);
      if (typeof groups === 'string') return [groups];
      const podIps = groups.get('eth0') ?? [];
      if (podIps.length === 0) return [`no IP under eth0 (groups: ${JSON.stringify([...groups])})`];
      const name = podPath.split('/').pop() ?? '';
      const onLink = ((await sandbox?.links(name)) ?? []).find((l) => l.ifname === 'eth0');
      const there = (onLink?.addresses ?? []).map((a) => canonicalIp(a.local));
      return podIps.map((ip) =>
        there.includes(ip) ? undefined : `pod IP ${ip} is not on eth0 in the pod`,
      );
    });
  });
}

/** K100: libcni's ValidateNetworkList accepts the conflist at each version. */
function validates(ctx: HarnessContext): Promise<Outcome> {
  return guarded(ctx, async () => {
    const built = await client(ctx);
    if ('missing' in built) return [built.missing];
    const problems: (string | undefined)[] = [];
    for (const v of versions(ctx)) {
      const list = writeConflist(ctx, await chainConf(ctx, v), v);
      problems.push(
        failed(
          `validate ${v}`,
          await runClient(ctx, built.path, [
            'validate',
            '--conflist',
            list,
            '--bin-dir',
            ctx.cniPath,
          ]),
        ),
      );
    }
    return problems;
  });
}

/** Checklist group K: end to end through libcni. */
export const libcniChecks: readonly Check[] = [
  {
    id: 'K98',
    title: 'ADD, CHECK, DEL through libcni with its cache',
    kinds: ANY_KIND,
    run: throughLibcni,
  },
  {
    id: 'K99',
    title: 'containerd finds the pod IP under eth0',
    kinds: ANY_KIND,
    run: containerdView,
  },
  { id: 'K100', title: 'ValidateNetworkList at each version', kinds: ANY_KIND, run: validates },
];
