import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// The built bundles, run as a runtime runs them: no arguments, env with PATH and CNI_* only.
const DIST = resolve(__dirname, '..', 'dist');
const BINARIES = ['calico', 'calico-ipam'] as const;
const SUPPORTED = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
const ADD_ENV = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/var/run/netns/none',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
};

interface Exec {
  status: number | null;
  stdout: string;
  stderr: string;
}

function exec(file: string, env: Record<string, string>, stdin = '', args: string[] = []): Exec {
  const r = spawnSync(file, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    input: stdin,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stdout must be exactly one JSON object (one line, nothing after it). */
function oneJsonObject(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  expect(lines).toHaveLength(1);
  const value = JSON.parse(lines[0] ?? '') as unknown;
  expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);
  return value as Record<string, unknown>;
}

beforeAll(() => {
  for (const name of BINARIES) {
    if (!existsSync(join(DIST, name)))
      throw new Error(`dist/${name} is missing: run npm run build first`);
  }
});

describe.each(BINARIES)('dist/%s', (name) => {
  const file = join(DIST, name);
  const config = (extra: object = {}) =>
    JSON.stringify({
      cniVersion: '0.3.1',
      name: 'net1',
      type: name,
      ipam: { type: 'calico-ipam' },
      ...extra,
    });

  it('answers VERSION with the seven supported versions and exit 0, without stdin', () => {
    const r = exec(file, { CNI_COMMAND: 'VERSION' });
    expect(r.status).toBe(0);
    expect(oneJsonObject(r.stdout)).toEqual({ cniVersion: '1.1.0', supportedVersions: SUPPORTED });
  });

  it('runs alone from an empty directory (no node_modules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cni-alone-'));
    try {
      const copy = join(dir, name);
      copyFileSync(file, copy);
      const r = spawnSync(copy, [], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CNI_COMMAND: 'VERSION' },
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      expect(oneJsonObject(r.stdout).supportedVersions).toEqual(SUPPORTED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints its version for -v and --version', () => {
    for (const flag of ['-v', '--version']) {
      const r = exec(file, {}, '', [flag]);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    }
  });

  it('prints the about banner on stderr and nothing on stdout without CNI_COMMAND', () => {
    const r = exec(file, {});
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Calico CNI (plugin|IPAM) /);
  });

  const errorCases: [string, Record<string, string>, string, number, RegExp][] = [
    ['malformed JSON', ADD_ENV, '{"cniVersion":', 6, /error decoding network config/],
    [
      'missing name',
      ADD_ENV,
      JSON.stringify({ cniVersion: '0.3.1', type: name }),
      7,
      /missing network name/,
    ],
    [
      'name "my net"',
      ADD_ENV,
      config({ name: 'my net' }),
      7,
      /invalid characters found in network name/,
    ],
    ['cniVersion 9.9.9', ADD_ENV, config({ cniVersion: '9.9.9' }), 1, /incompatible CNI versions/],
    ['CHECK at 0.3.1', { ...ADD_ENV, CNI_COMMAND: 'CHECK' }, config(), 1, /does not allow CHECK/],
    [
      'GC at 1.0.0',
      { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' },
      config({ cniVersion: '1.0.0' }),
      1,
      /does not allow GC/,
    ],
    [
      'ADD without container variables',
      { CNI_COMMAND: 'ADD' },
      config(),
      4,
      /\[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH\] missing/,
    ],
    [
      'a 16-byte ifname',
      { ...ADD_ENV, CNI_IFNAME: 'abcdefghijklmnop' },
      config(),
      4,
      /interface name is too long/,
    ],
    [
      'container ID bad/cid',
      { ...ADD_ENV, CNI_CONTAINERID: 'bad/cid' },
      config(),
      4,
      /invalid characters in containerID/,
    ],
    [
      'CNI_COMMAND=FOO',
      { ...ADD_ENV, CNI_COMMAND: 'FOO' },
      config(),
      4,
      /unknown CNI_COMMAND: FOO/,
    ],
  ];

  it.each(errorCases)(
    'rejects %s with the right code, exit 1 and one JSON object',
    (_, env, stdin, code, msg) => {
      const r = exec(file, env, stdin);
      expect(r.status).toBe(1);
      const error = oneJsonObject(r.stdout);
      expect(error.code).toBe(code);
      expect(error.msg).toMatch(msg);
    },
  );

  it('names our versions in the details of a code-1 error and stamps the error with nothing unknown', () => {
    const error = oneJsonObject(exec(file, ADD_ENV, config({ cniVersion: '9.9.9' })).stdout);
    expect(error.details).toBe(
      `config is "9.9.9", plugin supports [${SUPPORTED.map((v) => `"${v}"`).join(', ')}]`,
    );
    expect(error).not.toHaveProperty('cniVersion');
  });

  if (name === 'calico') {
    // The networking itself is tested in netns-tests/ (root); here: the netns is refused before
    // anything changes, once the config passed every check.
    it('refuses ADD into a netns path that does not exist, with code 8, changing nothing', () => {
      const r = exec(file, ADD_ENV, config({ nodename: 'node-1' }));
      expect(r.status).toBe(1);
      expect(oneJsonObject(r.stdout)).toMatchObject({
        cniVersion: '0.3.1',
        code: 8,
        msg: expect.stringContaining('/var/run/netns/none') as unknown,
      });
    });
  } else {
    // calico-ipam implements ADD (etcd tier: ipam/calico-ipam.etcd.test.ts); without etcd it says
    // "try again later". Port 1 on loopback: nothing listens, and no real cluster gets written.
    it('answers a valid ADD with code 11 naming the endpoint when etcd is unreachable', () => {
      const r = exec(file, ADD_ENV, config({ etcd_endpoints: 'http://127.0.0.1:1' }));
      expect(r.status).toBe(1);
      expect(oneJsonObject(r.stdout)).toMatchObject({
        cniVersion: '0.3.1',
        code: 11,
        msg: expect.stringContaining('http://127.0.0.1:1') as unknown,
      });
    });
  }
});

describe('dist/calico input rules of the main plugin', () => {
  it('requires ipam.type with code 7', () => {
    const r = exec(
      join(DIST, 'calico'),
      ADD_ENV,
      JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'calico' }),
    );
    expect(oneJsonObject(r.stdout)).toMatchObject({
      code: 7,
      msg: 'invalid network config: ipam.type is required',
    });
  });

  it('tolerates unknown CNI_ARGS keys, as Calico adds IgnoreUnknown itself', () => {
    const r = exec(
      join(DIST, 'calico'),
      { ...ADD_ENV, CNI_ARGS: 'K8S_POD_UID=u;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p' },
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'n',
        type: 'calico',
        nodename: 'node-1',
        ipam: { type: 'calico-ipam' },
      }),
    );
    // Past CNI_ARGS parsing, it stops at the missing netns.
    expect(oneJsonObject(r.stdout).code).toBe(8);
  });

  it('calico-ipam rejects unknown CNI_ARGS keys without IgnoreUnknown', () => {
    const r = exec(
      join(DIST, 'calico-ipam'),
      { ...ADD_ENV, CNI_ARGS: 'K8S_POD_UID=u' },
      JSON.stringify({ cniVersion: '1.0.0', name: 'n', ipam: { type: 'calico-ipam' } }),
    );
    expect(oneJsonObject(r.stdout)).toMatchObject({
      code: 4,
      msg: expect.stringContaining('K8S_POD_UID') as unknown,
    });
  });
});
