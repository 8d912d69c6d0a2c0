import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  etcdMissingReason,
  startEtcd,
  type EtcdServer,
} from '../../lib/datastore/testing/etcd-server';
import { findIp, isRoot } from '../../conformance/sandbox';
import { relayEtcd, type EtcdRelay } from './etcd-relay';

const execFileAsync = promisify(execFile);
const ETCDCTL = '/usr/bin/etcdctl';

/** Why this suite cannot run here, or undefined. */
function missing(): string | undefined {
  if (!isRoot()) return 'needs root for network namespaces';
  if (findIp() === undefined) return 'iproute2 `ip` not found';
  if (!existsSync(ETCDCTL)) return `${ETCDCTL} not found (install the Debian package etcd-client)`;
  return etcdMissingReason();
}

const reason = missing();
if (reason !== undefined) process.stderr.write(`\n!!! SKIPPING etcd relay suite: ${reason}\n\n`);

/** `etcdctl ARGS` inside netns `ns` against `endpoint`: its stdout, or the error it failed with. */
async function etcdctlIn(ns: string, endpoint: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(
    findIp() ?? 'ip',
    [
      'netns',
      'exec',
      ns,
      ETCDCTL,
      '--endpoints',
      endpoint,
      '--dial-timeout=1s',
      '--command-timeout=2s',
      ...args,
    ],
    { timeout: 20_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ETCDCTL_API: '3' } },
  );
  return stdout;
}

/** Command lines of running processes that mention `text`. */
async function processesWith(text: string): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync('pgrep', ['-af', text]);
    return stdout.split('\n').filter((l) => l.trim() !== '');
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe.skipIf(reason !== undefined)('relayEtcd', () => {
  const ns = `relay-test-${randomBytes(4).toString('hex')}`;
  let etcd: EtcdServer | undefined;
  let relay: EtcdRelay | undefined;

  beforeAll(async () => {
    await execFileAsync(findIp() ?? 'ip', ['netns', 'add', ns]);
    etcd = await startEtcd();
  }, 60_000);

  afterAll(async () => {
    await relay?.close();
    await etcd?.stop();
    await execFileAsync(findIp() ?? 'ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it('makes a host-loopback etcd usable inside a netns, and close() takes it away', async () => {
    const endpoint = etcd?.endpoint ?? '';
    // Without the relay the netns cannot reach the host's loopback: the test proves the relay.
    await expect(etcdctlIn(ns, endpoint, ['get', 'k'])).rejects.toThrow();

    relay = await relayEtcd(ns, endpoint);
    expect(relay.endpoint).toBe(endpoint);
    await etcdctlIn(ns, relay.endpoint, ['put', 'relay-key', 'through the socket']);
    expect(await etcdctlIn(ns, relay.endpoint, ['get', 'relay-key', '--print-value-only'])).toBe(
      'through the socket\n',
    );
    // The write landed in the host's etcd, not in some copy.
    const { stdout } = await execFileAsync(ETCDCTL, ['--endpoints', endpoint, 'get', 'relay-key']);
    expect(stdout).toBe('relay-key\nthrough the socket\n');
    // A second port alongside: several connections at once, on another URL.
    const other = await relayEtcd(ns, endpoint, { port: Number(new URL(endpoint).port) + 1 });
    try {
      const values = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          etcdctlIn(ns, i % 2 === 0 ? (relay?.endpoint ?? '') : other.endpoint, [
            'get',
            'relay-key',
          ]),
        ),
      );
      expect(values).toEqual(Array<string>(4).fill('relay-key\nthrough the socket\n'));
    } finally {
      await other.close();
    }

    await relay.close();
    await relay.close(); // twice is harmless
    await expect(etcdctlIn(ns, endpoint, ['get', 'relay-key'])).rejects.toThrow();
    expect(await processesWith(`relay.mjs ${new URL(endpoint).port}`)).toEqual([]);
  });

  it('fails with the netns half’s complaint when the port is taken inside the netns', async () => {
    const endpoint = etcd?.endpoint ?? '';
    const first = await relayEtcd(ns, endpoint);
    try {
      await expect(relayEtcd(ns, endpoint)).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
