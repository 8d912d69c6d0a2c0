import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildLibcniClient } from '../conformance/libcni-client';

// scripts/install against a staging root only (never the real /): the tree it produces, the
// conflist it writes, and its refusal to overwrite a different file without --force.

const INSTALL = resolve(__dirname, 'install');
const DIST = resolve(__dirname, '..', 'dist');
let root: string;

function install(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(INSTALL, ['--root', root, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function tree(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : [relative(root, join(dir, entry.name))],
    );
  return walk(root).sort();
}

const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** The Node.js that `node` on the installer's PATH is: its default for the scripts' #! line. */
const PATH_NODE = spawnSync('node', ['-p', 'process.execPath'], {
  encoding: 'utf8',
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
}).stdout.trim();

/** A built script as installed: its `#!/usr/bin/env node` made `#!NODE`, the rest as built. */
function asInstalled(built: Buffer, node = PATH_NODE): string {
  const text = built.toString('latin1');
  expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
  return `#!${node}${text.slice(text.indexOf('\n'))}`;
}
const CONFLIST = 'etc/cni/net.d/10-calico.conflist';

describe('scripts/install --root STAGING', () => {
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'calico-install-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('produces the expected tree with a conflist our parsers accept', () => {
    const run = install('--nodename', 'node-7', '--etcd-endpoints', 'http://127.0.0.1:12379');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(tree()).toEqual([
      CONFLIST,
      'opt/cni/bin/calico',
      'opt/cni/bin/calico-ipam',
      'opt/cni/bin/calico-ipam.cache',
      'opt/cni/bin/calico.cache',
      'usr/local/bin/calicoctl',
      'usr/local/bin/calicoctl.cache',
      'var/lib/calico/nodename',
    ]);
    for (const name of ['calico', 'calico-ipam']) {
      const installed = join(root, 'opt/cni/bin', name);
      expect(readFileSync(installed, 'latin1')).toBe(asInstalled(readFileSync(join(DIST, name))));
      expect(statSync(installed).mode & 0o777).toBe(0o755);
      expect(readFileSync(`${installed}.cache`)).toEqual(readFileSync(join(DIST, `${name}.cache`)));
      // The installed script finds its cache beside it, and this Node.js takes it.
      const cache = spawnSync(installed, ['--code-cache-status'], { encoding: 'utf8', env: {} });
      expect(cache.stdout).toBe('accepted\n');
    }
    expect(read('var/lib/calico/nodename')).toBe('node-7');
    expect(JSON.parse(read(CONFLIST))).toEqual({
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      plugins: [
        {
          type: 'calico',
          log_level: 'info',
          log_file_path: '/var/log/calico/cni/cni.log',
          datastore_type: 'etcdv3',
          etcd_endpoints: 'http://127.0.0.1:12379',
          nodename_file: '/var/lib/calico/nodename',
          mtu: 0,
          ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'false' },
          policy: { type: '' },
        },
      ],
    });
    expect(run.stdout).toContain(`validated ${join(root, CONFLIST)}: calico (portmap not found`);
  });

  it('--sea installs the single executable under both plugin names, each answering as itself', () => {
    const run = install('--sea', '--nodename', 'node-7');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const sea = readFileSync(join(DIST, 'sea', 'calico'));
    for (const name of ['calico', 'calico-ipam']) {
      const installed = join(root, 'opt/cni/bin', name);
      expect(readFileSync(installed).equals(sea)).toBe(true);
      expect(statSync(installed).mode & 0o777).toBe(0o755);
      const help = spawnSync(installed, ['--help'], { encoding: 'utf8', env: {} });
      expect(help.stdout.split('\n')[0]).toBe(`Usage: ${name} [options]`);
      const cache = spawnSync(installed, ['--code-cache-status'], { encoding: 'utf8', env: {} });
      expect(cache.stdout).toBe('accepted\n');
    }
    // calicoctl is for humans: the script bundle, as without --sea.
    expect(readFileSync(join(root, 'usr/local/bin/calicoctl'), 'latin1')).toBe(
      asInstalled(readFileSync(join(DIST, 'calicoctl'))),
    );
  });

  it("writes a conflist that libcni's ValidateNetworkList accepts, with portmap from Debian", async () => {
    const client = await buildLibcniClient();
    // CI provisions Go and libcni's source; elsewhere say loudly what is missing.
    if ('missing' in client) {
      if (process.env.CI === 'true')
        throw new Error(`libcni client unavailable: ${client.missing}`);
      console.warn(`SKIPPED libcni validation of the installed conflist: ${client.missing}`);
      return;
    }
    const bin = join(root, 'opt/cni/bin');
    const staged = install();
    expect(staged.status).toBe(0);
    // With Debian's portmap beside our bundles, the written list chains calico and portmap.
    writeFileSync(join(bin, 'portmap'), readFileSync('/usr/lib/cni/portmap'), { mode: 0o755 });
    expect(install('--force').status).toBe(0);
    const list = JSON.parse(read(CONFLIST)) as { plugins: { type: string }[] };
    expect(list.plugins.map((p) => p.type)).toEqual(['calico', 'portmap']);
    const validate = spawnSync(
      client.path,
      ['validate', '--conflist', join(root, CONFLIST), '--bin-dir', bin],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    expect(validate.stderr).toBe('');
    expect(validate.status).toBe(0);
    // ValidateNetworkList answers with the list's capabilities: portmap's portMappings.
    expect(JSON.parse(validate.stdout)).toEqual(['portMappings']);
  });

  it('adds portmap when the bin dir has it, and keeps an existing nodename file', () => {
    install();
    writeFileSync(join(root, 'opt/cni/bin/portmap'), '#!/bin/sh\n');
    writeFileSync(join(root, 'var/lib/calico/nodename'), 'kept-node');
    const run = install('--force', '--nodename', 'other');
    expect(run.status).toBe(0);
    const list = JSON.parse(read(CONFLIST)) as { plugins: { type: string }[] };
    expect(list.plugins.map((p) => p.type)).toEqual(['calico', 'portmap']);
    expect(read('var/lib/calico/nodename')).toBe('kept-node');
  });

  it('is idempotent, and refuses to overwrite a different file without --force', () => {
    expect(install().status).toBe(0);
    const again = install();
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`unchanged ${join(root, CONFLIST)}`);
    writeFileSync(join(root, CONFLIST), '{"edited":true}\n');
    writeFileSync(join(root, 'opt/cni/bin/calico'), 'old plugin');
    const refused = install();
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `refusing to overwrite ${join(root, 'opt/cni/bin/calico')}, ${join(root, CONFLIST)}`,
    );
    expect(read(CONFLIST)).toBe('{"edited":true}\n');
    expect(read('opt/cni/bin/calico')).toBe('old plugin');
    expect(install('--force').status).toBe(0);
    expect(readFileSync(join(root, 'opt/cni/bin/calico'), 'latin1')).toBe(
      asInstalled(readFileSync(join(DIST, 'calico'))),
    );
  });

  it('writes --node into the scripts, which then run with no PATH at all', () => {
    // A copy of this Node.js under another name: the #! line must name it, not `env node`.
    const node = join(root, 'pinned', 'node');
    mkdirSync(dirname(node), { recursive: true });
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
    const run = install('--node', node);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const installed = join(root, 'opt/cni/bin/calico');
    expect(readFileSync(installed, 'latin1')).toBe(
      asInstalled(readFileSync(join(DIST, 'calico')), node),
    );
    const version = spawnSync(installed, [], { encoding: 'utf8', env: { CNI_COMMAND: 'VERSION' } });
    expect(version.status).toBe(0);
    expect(
      (JSON.parse(version.stdout) as { supportedVersions: string[] }).supportedVersions,
    ).toContain('0.3.1');
  });

  it.each([
    ['a relative path', 'node', 'must be an absolute path'],
    ['a path with a blank', '/usr/bin/no de', 'must be an absolute path'],
    ['a missing file', '/nonexistent/node', 'not an executable file'],
  ])('refuses --node as %s, before writing anything', (_what, node, message) => {
    const run = install('--node', node);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`--node `);
    expect(run.stderr).toContain(message);
    expect(tree()).toEqual([]);
  });

  it('refuses a conflist our parsers reject, before writing anything', () => {
    const run = install('--etcd-endpoints', 'ftp://etcd');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'plugins[0] (calico): invalid etcd settings: etcd_endpoints: "ftp://etcd" is not an http(s) URL',
    );
    expect(tree()).toEqual([]);
  });
});
