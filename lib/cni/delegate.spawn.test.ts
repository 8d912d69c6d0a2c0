import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { delegateAdd, delegateCommand, findInPath } from './delegate';
import { CniError } from './errors';

// Fixture plugins are small sh scripts written per test: they record what they were given and
// print a scripted answer, like libcni's noop test plugin.
const root = mkdtempSync(join(tmpdir(), 'cni-delegate-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

let counter = 0;
function plugin(name: string, body: string, dir = join(root, `d${counter++}`)): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return dir;
}

const stdin = Buffer.from(
  '{"cniVersion":"0.3.1","name":"net1","type":"calico","ipam":{"type":"fake-ipam"}}',
);
const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c1',
  CNI_IFNAME: 'eth0',
};

async function caught(promise: Promise<unknown>): Promise<CniError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(CniError);
    return err as CniError;
  }
  throw new Error('expected a CniError');
}

describe('findInPath', () => {
  it('takes the first directory of CNI_PATH that has the plugin', () => {
    const a = plugin('p', 'exit 0');
    const b = plugin('p', 'exit 0');
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(findInPath('p', [empty, a, b])).toBe(join(a, 'p'));
    expect(findInPath('p', [b, a])).toBe(join(b, 'p'));
  });

  it('skips a directory named like the plugin', () => {
    const dir = join(root, 'dirs');
    mkdirSync(join(dir, 'p'), { recursive: true });
    const real = plugin('p', 'exit 0');
    expect(findInPath('p', [dir, real])).toBe(join(real, 'p'));
  });

  it('names the plugin and the path when it is nowhere', () => {
    expect(() => findInPath('nope', ['/x', '/y'])).toThrow(
      'failed to find plugin "nope" in path [/x /y]',
    );
  });

  it('refuses a plugin name with a path separator before looking', () => {
    expect(() => findInPath('../../bin/sh', ['/x'])).toThrow('must not contain a path separator');
  });
});

describe('delegateAdd and delegateCommand', () => {
  it('passes the same environment with CNI_COMMAND overridden and the complete stdin', async () => {
    const record = join(root, 'record');
    const dir = plugin(
      'fake-ipam',
      `env > ${record}.env; cat > ${record}.stdin
echo '{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.0.5/26"}],"dns":{}}'`,
    );
    const result = await delegateAdd('fake-ipam', {
      env: { ...env, CNI_COMMAND: 'DEL' },
      stdin,
      path: [dir],
      cniVersion: '0.3.1',
    });
    expect(result.ips).toEqual([{ address: '10.1.0.5/26' }]);
    expect(readFileSync(`${record}.stdin`)).toEqual(stdin);
    const seen = readFileSync(`${record}.env`, 'utf8').split('\n');
    expect(seen).toContain('CNI_COMMAND=ADD');
    expect(seen).toContain('CNI_CONTAINERID=c1');
  });

  it('passes a delegate CNI error through unchanged', async () => {
    const dir = plugin(
      'fake-ipam',
      `echo '{"code":11,"msg":"etcd unreachable","details":"http://127.0.0.1:2379"}'; exit 1`,
    );
    const err = await caught(
      delegateAdd('fake-ipam', { env, stdin, path: [dir], cniVersion: '0.3.1' }),
    );
    expect([err.code, err.message, err.details]).toEqual([
      11,
      'etcd unreachable',
      'http://127.0.0.1:2379',
    ]);
  });

  it.each([
    ['prints nothing', 'echo oops >&2; exit 3', 'exit status 3) and printed nothing on stdout'],
    ['prints no JSON', 'echo "not json"; exit 1', 'printed no CNI error object'],
  ])('names the plugin when it fails and %s', async (_, body, msg) => {
    const dir = plugin('fake-ipam', body);
    const err = await caught(delegateCommand('fake-ipam', 'DEL', { env, stdin, path: [dir] }));
    expect(err.code).toBe(102);
    expect(err.message).toContain(join(dir, 'fake-ipam'));
    expect(err.message).toContain(msg);
  });

  it('rejects an ADD that exits 0 without a JSON result', async () => {
    const dir = plugin('fake-ipam', 'echo "log line"; echo "{}"');
    const err = await caught(
      delegateAdd('fake-ipam', { env, stdin, path: [dir], cniVersion: '0.3.1' }),
    );
    expect(err.code).toBe(102);
    expect(err.message).toContain('did not print one JSON result');
  });

  it('rejects an ADD result with an invalid address, naming the field', async () => {
    const dir = plugin(
      'fake-ipam',
      `echo '{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.0.5"}]}'`,
    );
    const err = await caught(
      delegateAdd('fake-ipam', { env, stdin, path: [dir], cniVersion: '0.3.1' }),
    );
    expect(err.message).toContain('.ips[0].address: "10.1.0.5" is not an address in CIDR form');
  });

  it('kills a delegate that outlives its timeout', async () => {
    const dir = plugin('fake-ipam', 'sleep 30');
    const started = Date.now();
    const err = await caught(
      delegateCommand('fake-ipam', 'DEL', { env, stdin, path: [dir], timeoutMs: 300 }),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.message).toContain('killed by SIGKILL');
  });

  it('succeeds for DEL when the delegate exits 0, whatever it prints', async () => {
    const dir = plugin('fake-ipam', 'echo garbage');
    await expect(
      delegateCommand('fake-ipam', 'DEL', { env, stdin, path: [dir] }),
    ).resolves.toBeUndefined();
  });
});
