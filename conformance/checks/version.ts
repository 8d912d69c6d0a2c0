import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cniEnv, confText, ANY_KIND, type Check, type HarnessContext } from '../context';
import { describeExec, errorOf } from '../expect';
import { withIpamType } from '../netconf';
import { fail, pass, verdict, type Outcome } from '../outcome';
import { readVersionInfo } from '../version-info';
import { KNOWN_VERSIONS, REQUIRED_VERSIONS } from '../versions';

/** C35: VERSION prints one object with a string cniVersion and a non-empty supportedVersions. */
async function versionShape(ctx: HarnessContext): Promise<Outcome> {
  const r = await ctx.runner.run({
    env: { CNI_COMMAND: 'VERSION' },
    stdin: JSON.stringify({ cniVersion: ctx.version }),
    note: 'VERSION',
  });
  const info = readVersionInfo(r);
  return typeof info === 'string' ? fail(info) : pass();
}

/** C36: supportedVersions covers this project's versions and matches what ADD accepts. */
async function versionsMatchAdd(ctx: HarnessContext): Promise<Outcome> {
  const problems: (string | undefined)[] = [];
  const missing = REQUIRED_VERSIONS.filter((v) => !ctx.supported.includes(v));
  if (missing.length > 0) problems.push(`supportedVersions lacks ${missing.join(', ')}`);
  for (const v of KNOWN_VERSIONS) {
    const env = cniEnv(ctx, 'ADD');
    const stdin = confText(ctx, v);
    const r = await ctx.runner.run({ env, stdin, note: `ADD at ${v}` });
    // An IPAM plugin may succeed even with an absent netns: give the address back.
    if (r.exitCode === 0) await ctx.runner.run({ env: { ...env, CNI_COMMAND: 'DEL' }, stdin });
    const code1 = errorOf(r)?.code === 1;
    if (ctx.supported.includes(v) && code1) {
      problems.push(`ADD rejects advertised ${v}: ${describeExec(r)}`);
    }
    if (!ctx.supported.includes(v) && !code1) {
      problems.push(`ADD at unadvertised ${v}: want code 1, got ${describeExec(r)}`);
    }
  }
  return verdict(problems);
}

/** Count TCP connections to a loopback listener (a stand-in datastore) while `body` runs. */
async function countConnections<T>(body: (url: string) => Promise<T>): Promise<[T, number]> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const result = await body(`http://127.0.0.1:${port}`);
    return [result, connections];
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * C37: VERSION touches nothing: it runs in an empty cwd with libcni's probe environment, an IPAM
 * stand-in that records any run, a dataDir that must not appear and an etcd endpoint that counts
 * connections. It runs in the harness's netns so the loopback listener is reachable.
 */
async function versionSideEffects(ctx: HarnessContext): Promise<Outcome> {
  const cwd = ctx.tmp.dir('version-cwd');
  const bin = ctx.tmp.dir('version-bin');
  const marker = join(bin, 'ran');
  writeFileSync(join(bin, 'cnf-ipam'), `#!/bin/sh\n: > '${marker}'\nexit 1\n`);
  chmodSync(join(bin, 'cnf-ipam'), 0o755);
  const [r, connections] = await countConnections((url) => {
    const conf = withIpamType(ctx.confs.make(ctx.version), 'cnf-ipam');
    conf.datastore_type = 'etcdv3';
    conf.etcd_endpoints = url;
    (conf.ipam as Record<string, unknown>).dataDir = join(cwd, 'data');
    return ctx.runner.run({
      env: {
        CNI_COMMAND: 'VERSION',
        CNI_CONTAINERID: '',
        CNI_NETNS: 'dummy',
        CNI_IFNAME: 'dummy',
        CNI_PATH: bin,
      },
      stdin: JSON.stringify(conf),
      inHost: true,
      cwd,
      note: 'VERSION side effects',
    });
  });
  const info = readVersionInfo(r);
  const created = readdirSync(cwd);
  return verdict([
    typeof info === 'string' ? `VERSION: ${info}` : undefined,
    existsSync(marker) ? 'VERSION executed the IPAM plugin' : undefined,
    connections > 0 ? `VERSION opened ${connections} connection(s) to etcd_endpoints` : undefined,
    created.length > 0 ? `VERSION created ${created.join(', ')} in its cwd` : undefined,
  ]);
}

/** Checklist group C: VERSION. */
export const versionChecks: readonly Check[] = [
  { id: 'C35', title: 'VERSION output shape', kinds: ANY_KIND, run: versionShape },
  {
    id: 'C36',
    title: 'supportedVersions matches ADD',
    kinds: ANY_KIND,
    run: versionsMatchAdd,
  },
  {
    id: 'C37',
    title: 'VERSION has no side effects',
    kinds: ANY_KIND,
    run: versionSideEffects,
  },
];
