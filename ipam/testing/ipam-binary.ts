import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { etcdSettings } from '../../lib/datastore/config';
import type { Kv } from '../../lib/datastore/kv';
import { openKv } from '../../lib/datastore/open-kv';

// Drives the built dist/calico-ipam the way a runtime does (PATH and CNI_* only, config on stdin)
// and reads etcd raw, so the tests check Calico's key layout rather than our own models.

/** The bundle under test; `npm run build` makes it. */
export const CALICO_IPAM = resolve(__dirname, '..', '..', 'dist', 'calico-ipam');

/** What one run printed and returned. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed (every run prints at most one JSON object), or undefined when empty. */
  json: Record<string, unknown> | undefined;
}

/** One invocation: the verb, the container, the netconf (merged over `base`), CNI_ARGS. */
export interface Invocation {
  command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS';
  containerId?: string;
  netconf: Record<string, unknown>;
  cniArgs?: string;
}

/** Runs calico-ipam once. */
export function runIpam(inv: Invocation): Promise<Run> {
  if (!existsSync(CALICO_IPAM)) throw new Error(`${CALICO_IPAM} is missing: run npm run build`);
  const withContainer = inv.command !== 'GC' && inv.command !== 'STATUS';
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    CNI_COMMAND: inv.command,
    CNI_PATH: join(CALICO_IPAM, '..'),
    ...(withContainer
      ? {
          CNI_CONTAINERID: inv.containerId ?? 'c0',
          CNI_NETNS: '/var/run/netns/unused',
          CNI_IFNAME: 'eth0',
        }
      : {}),
    ...(inv.cniArgs === undefined ? {} : { CNI_ARGS: inv.cniArgs }),
  };
  return spawnPlugin([CALICO_IPAM], { env, stdin: JSON.stringify(inv.netconf) });
}

/**
 * Runs a plugin binary (argv[0], or a wrapper such as `ip netns exec NS plugin`) asynchronously,
 * as a runtime does, with a 60 s SIGKILL timeout. Asynchronous on purpose: a synchronous spawn
 * would stall an etcd relay that lives in the calling process.
 */
export function spawnPlugin(
  argv: string[],
  options: { env: Record<string, string>; stdin: string },
): Promise<Run> {
  const [file = '', ...args] = argv;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = stdout.trim();
      resolvePromise({
        code,
        stdout,
        stderr,
        json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
      });
    });
    child.stdin.end(options.stdin);
  });
}

/** ClusterInformation `default` saying the datastore is ready, as calico/node writes it. */
export const READY_CLUSTER_INFORMATION = JSON.stringify({
  kind: 'ClusterInformation',
  apiVersion: 'projectcalico.org/v3',
  metadata: { name: 'default' },
  spec: { datastoreReady: true },
});

/** A netconf for the test etcd: network `net1`, calico-ipam, a private lock, `node`. */
export function ipamNetconf(
  endpoint: string,
  options: {
    node: string;
    cniVersion?: string;
    ipam?: Record<string, unknown>;
    extra?: Record<string, unknown>;
  },
): Record<string, unknown> {
  return {
    cniVersion: options.cniVersion ?? '0.3.1',
    name: 'net1',
    type: 'calico',
    etcd_endpoints: endpoint,
    nodename: options.node,
    ipam_lock_file: `/tmp/calico-ipam-test-${process.pid}.lock`,
    ipam: { type: 'calico-ipam', ...(options.ipam ?? {}) },
    ...(options.extra ?? {}),
  };
}

/** A raw client for assertions and third-party writes; `netconf` adds e.g. TLS file keys. */
export function rawKv(endpoint: string, netconf: Record<string, string> = {}): Kv {
  // Tests keep one client for minutes: give it the longest budget (a plugin's is 10 s).
  return openKv(
    etcdSettings({ etcd_endpoints: endpoint, etcd_timeout_seconds: 600, ...netconf }, {}),
  );
}

/** Every key under `prefix` with its value parsed as JSON. */
export async function rawJson(
  kv: Kv,
  prefix: string,
): Promise<Map<string, Record<string, unknown>>> {
  const { kvs } = await kv.range(prefix, { prefix: true });
  return new Map(kvs.map((x) => [x.key, JSON.parse(x.value) as Record<string, unknown>]));
}

/** Total KV requests etcd has served (its /metrics counters of the KV gRPC service). */
export async function etcdKvRequests(endpoint: string): Promise<number> {
  const response = await fetch(`${endpoint}/metrics`);
  const text = await response.text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('grpc_server_started_total{') &&
      line.includes('grpc_service="etcdserverpb.KV"')
    ) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/** A raw Calico IPPool JSON value, as calicoctl would store it. */
export function rawPool(name: string, cidr: string, spec: Record<string, unknown> = {}): string {
  return JSON.stringify({
    kind: 'IPPool',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { cidr, ipipMode: 'Never', natOutgoing: true, nodeSelector: 'all()', ...spec },
  });
}
