import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { describeAsRoot } from './support/root';
import { ip } from './support/topology';

// The README's main command, end to end: scripts/demo.ts on the built bundles (the CI build step
// has run). It must show the cross-node ping and hop list, release every address, and leave no
// namespace, relay or etcd behind.

const execFileAsync = promisify(execFile);
const REPO = resolve(__dirname, '..');

describeAsRoot('the demo (npm run demo)', () => {
  it('runs end to end in under a minute and leaves nothing behind', async () => {
    const started = performance.now();
    const { stdout } = await execFileAsync('node', ['--import', 'tsx', 'scripts/demo.ts'], {
      cwd: REPO,
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    expect(performance.now() - started).toBeLessThan(60_000);
    expect(stdout).toMatch(/pod-a on node-1: eth0 10\.1\.\d+\.\d+\/32/);
    expect(stdout).toMatch(/pod-d on node-2: eth0 10\.1\.\d+\.\d+\/32/);
    expect(stdout).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
    expect(stdout).toMatch(
      / 1 {2}172\.31\.250\.11 {2}\(node-1\)\n 2 {2}172\.31\.250\.12 {2}\(node-2\)\n 3 {2}10\.1\.\d+\.\d+ {2}\(pod-c\)\n/,
    );
    expect(stdout).toMatch(/Block +10\.1\.\d+\.\d+\/26 +64 +2 \(3%\) +62 \(96%\) +node-1/);
    expect(stdout).toContain('handles left: 0; addresses in use: 0');
    expect(stdout).toContain('Found 0 leaked addresses.');
    expect(stdout).toContain('nothing left behind');
    // Other tests may create namespaces meanwhile: look for the demo's own (`cd<pid>-…`).
    const tag = /netns (cd\d+)-n1/.exec(stdout)?.[1];
    expect(tag).toBeDefined();
    const left = (await ip('netns', 'list'))
      .split('\n')
      .filter((l) => l.startsWith(`${tag ?? ''}-`));
    expect(left).toEqual([]);
    // No process of the demo survives it: relays, plugins, etcd (its data dir is calico-ts-etcd-*).
    const processes = readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .map((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        } catch {
          return '';
        }
      });
    expect(processes.filter((p) => p.includes(' netns exec cd') || p.includes('demo.ts'))).toEqual(
      [],
    );
  });
});
