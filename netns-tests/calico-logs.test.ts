import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { startEtcd, type EtcdServer } from '../lib/datastore/testing/etcd-server';
import { makeTestPki, serverTlsOf, type TestPki } from '../lib/datastore/testing/test-pki';
import { CalicoNode, type PluginRun } from './support/calico-node';
import { guardHost, useTopology } from './support/hooks';
import { describeAsRoot } from './support/root';

// Issue 7 item 7: with log_level debug and client TLS to etcd, the log file (0600 in a directory
// created 0700) records the invocations but never stdin nor any key or certificate material.

let pki: TestPki;
let etcd: EtcdServer;
let node: CalicoNode;
let logDir: string;

/** The base64 body lines of every PEM file of the test PKI: none may appear anywhere. */
function pemBodies(): string[] {
  const files = [pki.clientKeyFile, pki.clientCertFile, pki.caFile, pki.serverKeyFile];
  return files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.length >= 40 && !l.startsWith('-----')),
  );
}

function expectNoSecrets(text: string, secrets: readonly string[]): void {
  expect(text).not.toContain('-----BEGIN');
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describeAsRoot('calico logs with TLS to etcd and log_level debug', () => {
  guardHost();
  const topology = useTopology();
  beforeAll(async () => {
    pki = makeTestPki();
    etcd = await startEtcd({
      tls: serverTlsOf(pki),
    });
  }, 60_000);
  afterAll(async () => {
    await etcd.stop();
    pki.remove();
  });
  beforeEach(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'calico-logs-'));
    node = await CalicoNode.create(topology(), etcd, {
      tls: { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile },
    });
  });
  afterEach(async () => {
    await node.close();
    await etcd.wipe();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('ADD, CHECK and DEL log what they did, owner-only, without stdin or key material', async () => {
    const pod = await topology().pod();
    const logFile = join(logDir, 'cni', 'cni.log');
    // A value only stdin carries: if any line quoted stdin, it would show.
    const marker = 'stdin-only-9f3c1a7e';
    const conf = node.conf({
      cniVersion: '1.0.0',
      extra: { log_level: 'debug', log_file_path: logFile, x_private_note: marker },
    });
    const add = await node.calico({ command: 'ADD', netns: pod, containerId: 'logs1', conf });
    expect(add.code, add.stdout).toBe(0);
    const check = await node.calico({
      command: 'CHECK',
      netns: pod,
      containerId: 'logs1',
      conf: { ...conf, prevResult: add.json },
    });
    expect(check.code, check.stdout).toBe(0);
    const del = await node.calico({ command: 'DEL', netns: pod, containerId: 'logs1', conf });
    expect(del.code, del.stdout).toBe(0);
    const runs: PluginRun[] = [add, check, del];
    expect(statSync(join(logDir, 'cni')).mode & 0o777).toBe(0o700);
    expect(statSync(logFile).mode & 0o777).toBe(0o600);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toMatch(/\[DEBUG\]\[\d+\] calico: invocation: container=logs1 /);
    expect(log).toMatch(/\[INFO\]\[\d+\] calico: ADD container=logs1 addresses=10\.1\./);
    expect(log).toMatch(/\[INFO\]\[\d+\] calico: DEL container=logs1 /);
    const everything = [log, ...runs.flatMap((r) => [r.stdout, r.stderr])].join('\n');
    expectNoSecrets(everything, [...pemBodies(), marker, JSON.stringify(conf)]);
  });

  it('a key file that does not parse fails the ADD, and its contents stay out', async () => {
    const pod = await topology().pod();
    const logFile = join(logDir, 'cni.log');
    const badKey = join(logDir, 'bad-key.pem');
    const secret = 'SECRETKEYMATERIAL0123456789abcdefSECRETKEYMATERIAL';
    writeFileSync(badKey, `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----\n`, {
      mode: 0o600,
    });
    const conf = node.conf({
      extra: { log_level: 'debug', log_file_path: logFile, etcd_key_file: badKey },
    });
    const run = await node.calico({ command: 'ADD', netns: pod, containerId: 'logs2', conf });
    expect(run.code).toBe(1);
    const log = readFileSync(logFile, 'utf8');
    expectNoSecrets([log, run.stdout, run.stderr].join('\n'), [...pemBodies(), secret]);
    // Nothing was set up: the pod has only its loopback.
    const del = await node.calico({
      command: 'DEL',
      netns: pod,
      containerId: 'logs2',
      conf: node.conf(),
    });
    expect(del.code).toBe(0);
  });
});
