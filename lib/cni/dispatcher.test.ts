import { describe, expect, it } from 'vitest';
import { pluginMain, type CmdArgs, type PluginHandlers } from './dispatcher';
import { CniError } from './errors';
import type { Result } from './result/types';

const result: Result = {
  interfaces: [{ name: 'eth0', mac: '0a:58:0a:01:00:05', sandbox: '/var/run/netns/p1' }],
  ips: [{ address: '10.1.0.5/32', interface: 0 }],
  routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
  dns: {},
};

const ADD_ENV = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/var/run/netns/p1',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
  calls: { verb: string; args: unknown }[];
}

async function run(
  env: Record<string, string>,
  stdin: string | object = { cniVersion: '0.3.1', name: 'net1', type: 'calico' },
  overrides: Partial<PluginHandlers> = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  let stdinReads = 0;
  const calls: Run['calls'] = [];
  const record = (verb: string) => (args: unknown) => {
    calls.push({ verb, args });
    return Promise.resolve();
  };
  const handlers: PluginHandlers = {
    add: (args) => {
      calls.push({ verb: 'ADD', args });
      return Promise.resolve(result);
    },
    del: record('DEL'),
    check: record('CHECK'),
    gc: record('GC'),
    status: record('STATUS'),
    ...overrides,
  };
  const code = await pluginMain(handlers, {
    about: 'Test plugin',
    io: {
      env,
      readStdin: () => {
        stdinReads++;
        return Promise.resolve(
          Buffer.from(typeof stdin === 'string' ? stdin : JSON.stringify(stdin)),
        );
      },
      writeStdout: (t) => (stdout += t),
      writeStderr: (t) => (stderr += t),
    },
  });
  if (env.CNI_COMMAND === 'VERSION') expect(stdinReads).toBe(0);
  // Whatever happened, stdout holds at most one line of JSON.
  expect(
    stdout === '' || (stdout.endsWith('\n') && stdout.indexOf('\n') === stdout.length - 1),
  ).toBe(true);
  const json = stdout === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
  return { code, stdout, stderr, json, calls };
}

function expectError(r: Run, code: number, msg: string | RegExp): void {
  expect(r.code).toBe(1);
  expect(r.json.code).toBe(code);
  expect(r.json.msg).toMatch(msg);
  expect(r.calls).toEqual([]);
}

describe('pluginMain: environment', () => {
  it('prints the about banner on stderr and exits 0 without a command', async () => {
    const r = await run({});
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Test plugin');
    expect(r.stderr).toContain(
      'CNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0',
    );
  });

  it('answers VERSION without stdin and ignores the other variables', async () => {
    const r = await run({
      CNI_COMMAND: 'VERSION',
      CNI_CONTAINERID: '',
      CNI_NETNS: 'dummy',
      CNI_IFNAME: 'dummy',
      CNI_PATH: 'dummy',
    });
    expect(r.code).toBe(0);
    expect(r.json).toEqual({
      cniVersion: '1.1.0',
      supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
  });

  it.each(['FOO', 'add', 'Add'])('rejects CNI_COMMAND=%s with code 4', async (command) => {
    expectError(
      await run({ ...ADD_ENV, CNI_COMMAND: command }),
      4,
      `unknown CNI_COMMAND: ${command}`,
    );
  });

  it('lists every missing variable of ADD in one code-4 error, in skel order', async () => {
    const r = await run({ CNI_COMMAND: 'ADD' });
    expectError(
      r,
      4,
      'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing',
    );
    expect(r.json).not.toHaveProperty('cniVersion');
  });

  it('treats an empty value as missing', async () => {
    expectError(await run({ ...ADD_ENV, CNI_IFNAME: '' }), 4, '[CNI_IFNAME]');
  });

  it('does not need CNI_NETNS for DEL', async () => {
    const r = await run({ ...ADD_ENV, CNI_COMMAND: 'DEL', CNI_NETNS: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.calls.map((c) => c.verb)).toEqual(['DEL']);
  });

  it('needs CNI_NETNS for CHECK and the container fields for DEL', async () => {
    const stdin = { cniVersion: '0.4.0', name: 'n' };
    expectError(
      await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK', CNI_NETNS: '' }, stdin),
      4,
      '[CNI_NETNS]',
    );
    expectError(
      await run({ CNI_COMMAND: 'DEL', CNI_PATH: '/x' }, stdin),
      4,
      '[CNI_CONTAINERID,CNI_IFNAME]',
    );
  });

  it('runs GC and STATUS without container fields', async () => {
    const stdin = { cniVersion: '1.1.0', name: 'n' };
    const gc = await run({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, stdin);
    expect([gc.code, gc.stdout]).toEqual([0, '']);
    const status = await run({ CNI_COMMAND: 'STATUS' }, stdin);
    expect([status.code, status.stdout]).toEqual([0, '']);
    expectError(await run({ CNI_COMMAND: 'GC' }, stdin), 4, '[CNI_PATH]');
  });

  it.each(['bad/cid', '-c1', '_cid', 'a b', 'ab$'])(
    'rejects container ID %j with code 4',
    async (id) => {
      const r = await run({ ...ADD_ENV, CNI_CONTAINERID: id });
      expectError(r, 4, 'invalid characters in containerID');
      expect(r.json.details).toBe(id);
    },
  );

  it.each(['abcdefghijklmnop', '.', '..', 'a/b', 'a:b', 'a b', 'a\tb', 'ééééééééé'])(
    'rejects interface name %j with code 4',
    async (ifName) => {
      expectError(await run({ ...ADD_ENV, CNI_IFNAME: ifName }), 4, /interface name/);
    },
  );

  it('accepts a 15-byte interface name and long hex container IDs', async () => {
    const r = await run({
      ...ADD_ENV,
      CNI_IFNAME: 'abcdefghijklmno',
      CNI_CONTAINERID: 'a'.repeat(64),
    });
    expect(r.code).toBe(0);
  });
});

describe('pluginMain: configuration and versions', () => {
  it('gives code 6 for malformed JSON', async () => {
    expectError(await run(ADD_ENV, '{"name": '), 6, /error decoding network config/);
  });

  it('gives code 6 for a JSON value that is not an object', async () => {
    expectError(await run(ADD_ENV, '[1,2]'), 6, /not a JSON object/);
  });

  it.each([
    [{ cniVersion: '0.3.1' }, 'missing network name'],
    [{ cniVersion: '0.3.1', name: '' }, 'missing network name'],
    [{ cniVersion: '0.3.1', name: 'my net' }, 'invalid characters found in network name "my net"'],
    [{ cniVersion: '0.3.1', name: '-net' }, 'invalid characters'],
    [{ cniVersion: '0.3.1', name: 'te%%st' }, 'invalid characters'],
    [{ cniVersion: '0.3.1', name: 'n', type: '../calico' }, 'invalid plugin name in type'],
    [
      { cniVersion: '0.3.1', name: 'n', ipam: { type: 'a\\b' } },
      'invalid plugin name in ipam.type',
    ],
    [{ cniVersion: '0.3.1', name: 'n', ipam: 'calico-ipam' }, 'ipam: must be an object'],
  ])('gives code 7 for %j', async (stdin, msg) => {
    expectError(await run(ADD_ENV, stdin), 7, msg);
  });

  it.each(['9.9.9', '0.3.2', '2.0.0', 'abc'])(
    'gives code 1 for cniVersion %s on ADD and DEL',
    async (v) => {
      for (const command of ['ADD', 'DEL']) {
        const r = await run({ ...ADD_ENV, CNI_COMMAND: command }, { cniVersion: v, name: 'n' });
        expectError(r, 1, 'incompatible CNI versions');
        expect(r.json.details).toBe(
          `config is "${v}", plugin supports ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]`,
        );
      }
    },
  );

  it('gives code 6 for a garbage cniVersion on CHECK, GC and STATUS', async () => {
    const stdin = { cniVersion: 'abc', name: 'n' };
    expectError(
      await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK' }, stdin),
      6,
      'invalid cniVersion "abc"',
    );
    expectError(await run({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, stdin), 6, 'invalid cniVersion');
    expectError(await run({ CNI_COMMAND: 'STATUS' }, stdin), 6, 'invalid cniVersion');
  });

  it('refuses CHECK below 0.4.0 and GC/STATUS below 1.1.0 with code 1', async () => {
    expectError(
      await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK' }, { cniVersion: '0.3.1', name: 'n' }),
      1,
      'config version does not allow CHECK',
    );
    expectError(
      await run({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, { cniVersion: '1.0.0', name: 'n' }),
      1,
      'config version does not allow GC',
    );
    expectError(
      await run({ CNI_COMMAND: 'STATUS' }, { cniVersion: '0.4.0', name: 'n' }),
      1,
      'does not allow STATUS',
    );
  });

  it('treats a missing cniVersion as 0.1.0 and answers in the 0.2.0 shape', async () => {
    const r = await run(ADD_ENV, { name: 'n' });
    expect(r.code).toBe(0);
    expect(r.json).toEqual({
      cniVersion: '0.1.0',
      ip4: { ip: '10.1.0.5/32', routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }] },
      dns: {},
    });
  });

  it.each(['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'])('answers ADD in exactly %s', async (v) => {
    const r = await run(ADD_ENV, { cniVersion: v, name: 'n' });
    expect(r.code).toBe(0);
    expect(r.json.cniVersion).toBe(v);
    const ip = (r.json.ips as Record<string, unknown>[])[0];
    expect(ip?.version).toBe(v.startsWith('0.') ? '4' : undefined);
  });

  it('carries the config version in errors once stdin is read, but never a version we do not speak', async () => {
    const name = await run(ADD_ENV, { cniVersion: '0.4.0', name: 'my net' });
    expect(name.json).toMatchObject({ cniVersion: '0.4.0', code: 7 });
    const check = await run(
      { ...ADD_ENV, CNI_COMMAND: 'CHECK' },
      { cniVersion: '0.3.1', name: 'n' },
    );
    expect(check.json).toMatchObject({ cniVersion: '0.3.1', code: 1 });
    const implicit = await run(ADD_ENV, { name: '' });
    expect(implicit.json).toMatchObject({ cniVersion: '0.1.0', code: 7 });
    const unknown = await run(ADD_ENV, { cniVersion: '9.9.9', name: 'n' });
    expect(unknown.json).not.toHaveProperty('cniVersion');
  });

  it('carries cniVersion in errors raised after the version is known', async () => {
    const failing = { add: () => Promise.reject(new CniError(105, 'pool 10.1.0.0/16 is full')) };
    const r = await run(ADD_ENV, { cniVersion: '1.0.0', name: 'n' }, failing);
    expect(r.json).toEqual({ cniVersion: '1.0.0', code: 105, msg: 'pool 10.1.0.0/16 is full' });
    expect(r.code).toBe(1);
  });

  it('turns an unexpected exception into code 999 with the stack on stderr only', async () => {
    const failing = { add: () => Promise.reject(new TypeError('boom')) };
    const r = await run(ADD_ENV, { cniVersion: '1.0.0', name: 'n' }, failing);
    expect(r.json).toEqual({ cniVersion: '1.0.0', code: 999, msg: 'boom' });
    expect(r.stdout).not.toContain('at ');
    expect(r.stderr).toContain('TypeError: boom');
  });

  it('gives code 5 when stdin cannot be read', async () => {
    let stdout = '';
    const code = await pluginMain(
      {
        add: () => Promise.resolve(result),
        del: () => Promise.resolve(),
        check: () => Promise.resolve(),
        gc: () => Promise.resolve(),
        status: () => Promise.resolve(),
      },
      {
        about: 'x',
        io: {
          env: ADD_ENV,
          readStdin: () => Promise.reject(new Error('EIO: i/o error, read')),
          writeStdout: (t) => (stdout += t),
          writeStderr: () => undefined,
        },
      },
    );
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      code: 5,
      msg: expect.stringContaining('EIO') as unknown,
    });
  });
});

describe('pluginMain: handler arguments', () => {
  it('passes parsed CNI_ARGS, CNI_PATH and the exact stdin to the handler', async () => {
    const stdin =
      '{"cniVersion":"0.3.1","name":"net1","type":"calico","ipam":{"type":"calico-ipam"}}';
    const r = await run(
      {
        ...ADD_ENV,
        CNI_ARGS:
          'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=c;K8S_POD_UID=u',
      },
      stdin,
    );
    const args = r.calls[0]?.args as CmdArgs;
    expect(args.args).toMatchObject({
      k8sPodNamespace: 'ns',
      k8sPodName: 'p',
      k8sPodInfraContainerId: 'c',
    });
    expect(args.path).toEqual(['/opt/cni/bin', '/usr/lib/cni']);
    expect(args.stdin.toString()).toBe(stdin);
    expect(args.netConf).toMatchObject({
      cniVersion: '0.3.1',
      name: 'net1',
      type: 'calico',
      ipamType: 'calico-ipam',
    });
    expect([args.containerId, args.netns, args.ifName]).toEqual([
      'abc123',
      '/var/run/netns/p1',
      'eth0',
    ]);
  });

  it('rejects unknown CNI_ARGS keys without IgnoreUnknown, and pairs without =', async () => {
    expectError(
      await run({ ...ADD_ENV, CNI_ARGS: 'K8S_POD_UID=u' }),
      4,
      'CNI_ARGS: unknown key "K8S_POD_UID"',
    );
    expectError(
      await run({ ...ADD_ENV, CNI_ARGS: 'IgnoreUnknown=1;novalue' }),
      4,
      'CNI_ARGS: invalid pair "novalue"',
    );
  });

  it('parses prevResult in the config version and rejects a broken one with code 7', async () => {
    const prevResult = { ips: [{ version: '4', address: '10.1.0.5/32' }] };
    const ok = await run(ADD_ENV, { cniVersion: '0.3.1', name: 'n', prevResult });
    expect((ok.calls[0]?.args as CmdArgs).netConf.prevResult?.ips).toEqual([
      { address: '10.1.0.5/32' },
    ]);
    const bad = await run(ADD_ENV, {
      cniVersion: '0.3.1',
      name: 'n',
      prevResult: { ips: [{ address: 'x' }] },
    });
    expectError(
      bad,
      7,
      'invalid network config: prevResult.ips[0].address: "x" is not an address in CIDR form',
    );
  });

  it('runs DEL despite an unreadable prevResult, with a warning on stderr', async () => {
    const r = await run(
      { ...ADD_ENV, CNI_COMMAND: 'DEL' },
      { cniVersion: '1.0.0', name: 'n', prevResult: { ips: 3 } },
    );
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => c.verb)).toEqual(['DEL']);
    expect(r.stderr).toContain('ignoring prevResult on DEL');
  });

  it('reads GC valid attachments from either key, and none when neither is sent', async () => {
    const env = { CNI_COMMAND: 'GC', CNI_PATH: '/x' };
    const attachments = [{ containerID: 'a1', ifname: 'eth0' }];
    for (const key of ['cni.dev/valid-attachments', 'cni.dev/attachments']) {
      const r = await run(env, { cniVersion: '1.1.0', name: 'n', [key]: attachments });
      expect((r.calls[0]?.args as CmdArgs).netConf.validAttachments).toEqual([
        { containerId: 'a1', ifName: 'eth0' },
      ]);
    }
    const none = await run(env, { cniVersion: '1.1.0', name: 'n' });
    expect((none.calls[0]?.args as CmdArgs).netConf.validAttachments).toBeUndefined();
  });
});
