// Issue 7 item 6: a seedable generator of hostile CNI invocations (stdin and environment). Pure: the
// same seed gives the same cases, so a failure found by `scripts/fuzz.ts --seed N` replays exactly.

/** One generated invocation; `stdin` is raw bytes (it may be invalid JSON or hold NUL bytes). */
export interface HostileCase {
  index: number;
  plugin: 'calico' | 'calico-ipam';
  /** What was done to the valid invocation, for the report. */
  mutations: string[];
  env: Record<string, string>;
  stdin: Buffer;
}

/** Everything a case needs from its surroundings. */
export interface CaseContext {
  /** A valid netconf for the node (etcd endpoint, log path, lock file already set). */
  netconf: Record<string, unknown>;
  /** A usable pod netns path. */
  podNetns: string;
}

/** A small fast PRNG (mulberry32): the generator must not depend on Math.random. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;

const NASTY_STRINGS = [
  '',
  ' ',
  '../../../../etc/passwd',
  '/',
  '..',
  'a/b',
  'name with spaces',
  'x'.repeat(300),
  'ünïcødé-名前-🐙',
  '\u202e\u0000gnp.exe',
  '$(touch /tmp/pwned)',
  '`id`',
  ';rm -rf /',
  '\n\r\t',
  '%s%n%x',
  '-rf',
  '--help',
];

const WRONG_TYPES: unknown[] = [
  null,
  0,
  -1,
  1e308,
  true,
  [],
  {},
  [1, 2],
  { a: 1 },
  '',
  'x'.repeat(70_000),
];

const FIELDS = [
  'cniVersion',
  'name',
  'type',
  'ipam',
  'etcd_endpoints',
  'nodename',
  'mtu',
  'log_level',
  'etcd_timeout_seconds',
  'etcd_ca_cert_file',
  'etcd_transport',
  'prevResult',
  'runtimeConfig',
  'args',
  'capabilities',
  'dns',
  'policy',
  'kubernetes',
  'ipam.type',
  'ipam.assign_ipv4',
  'ipam.assign_ipv6',
  'ipam.ipv4_pools',
  'ipam.subnet',
];

/** CNI_NETNS values that are safe to hand over: never another real namespace of this machine. */
function nastyNetns(rng: Rng, ctx: CaseContext): string {
  return pick(rng, [
    '',
    '/nonexistent/netns',
    `${ctx.podNetns}/../${ctx.podNetns.split('/').pop() ?? ''}`,
    '/dev/null',
    '/etc/hostname',
    '/proc/self/ns/net',
    '/var/run/netns/',
    `${ctx.podNetns}\u00e9`,
    'relative/netns',
  ]);
}

const CNI_ARGS = [
  'IP=1.2.3.4;IP=5.6.7.8',
  'IP=10.1.0.5;IP=10.1.0.6',
  'IP=999.1.1.1',
  'IP=::1',
  'IP=10.1.0.0/16',
  'K8S_POD_NAMESPACE=../../x;K8S_POD_NAME=/etc',
  'K8S_POD_NAMESPACE=;K8S_POD_NAME=',
  'IgnoreUnknown=1;A=B;C',
  '=;;=;IP',
  'IgnoreUnknown=true;IP=10.1.0.7;IP=10.1.0.8',
  `K8S_POD_NAME=${'p'.repeat(5000)};K8S_POD_NAMESPACE=ns`,
  'K8S_POD_INFRA_CONTAINER_ID=$(reboot)',
  'IgnoreUnknown=1;K8S_POD_NAMESPACE=a b;K8S_POD_NAME=c d',
];

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const [head, rest] = path.split('.', 2) as [string, string | undefined];
  if (rest === undefined) {
    obj[head] = value;
    return;
  }
  const inner = obj[head];
  if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
    setPath(inner as Record<string, unknown>, rest, value);
  } else {
    obj[head] = value;
  }
}

function deepNesting(depth: number, open: string, close: string): string {
  return `${open.repeat(depth)}${close.repeat(depth)}`;
}

/** Mutations of the netconf object (the result is serialised as JSON). */
const OBJECT_MUTATIONS: [string, (rng: Rng, conf: Record<string, unknown>) => string][] = [
  [
    'wrong type',
    (rng, conf) => {
      const field = pick(rng, FIELDS);
      const value = pick(rng, WRONG_TYPES);
      setPath(conf, field, value);
      return `${field}=${JSON.stringify(value).slice(0, 20)}`;
    },
  ],
  [
    'nasty string',
    (rng, conf) => {
      const field = pick(rng, FIELDS);
      const value = pick(rng, NASTY_STRINGS);
      setPath(conf, field, value);
      return `${field}=${JSON.stringify(value).slice(0, 20)}`;
    },
  ],
  [
    'missing field',
    (rng, conf) => {
      const field = pick(rng, ['cniVersion', 'name', 'type', 'ipam', 'nodename']);
      Reflect.deleteProperty(conf, field);
      return field;
    },
  ],
  [
    'huge array',
    (rng, conf) => {
      const field = pick(rng, [
        'ipam.ipv4_pools',
        'dns',
        'args',
        'etcd_endpoints',
        'runtimeConfig',
      ]);
      setPath(
        conf,
        field,
        Array.from({ length: 100_000 }, (_, i) => `10.${i % 256}.0.0/16`),
      );
      return field;
    },
  ],
  [
    'huge string',
    (rng, conf) => {
      const field = pick(rng, FIELDS);
      setPath(conf, field, 'A'.repeat(1 << 20));
      return field;
    },
  ],
  [
    'unknown fields',
    (_rng, conf) => {
      conf.__proto__x = { polluted: true };
      conf['constructor'] = 'x';
      conf['ünïcødé'] = '🐙';
      return 'extra keys';
    },
  ],
  [
    'cniVersion',
    (rng, conf) => {
      const v = pick(rng, ['0.0.0', '9.9.9', '1.0', 'latest', '1.1.0', '0.1.0', '0.4.0', ' 1.0.0']);
      conf.cniVersion = v;
      return v;
    },
  ],
  [
    'prevResult',
    (rng, conf) => {
      conf.prevResult = pick(rng, [
        { ips: [{ address: 'not-an-ip' }] },
        { interfaces: [{ name: '../x' }], ips: [{ address: '10.1.0.1/24', interface: 99 }] },
        { ips: 'x' },
        [],
      ]);
      return 'prevResult';
    },
  ],
];

/** Mutations of the raw stdin bytes. */
const RAW_MUTATIONS: [string, (rng: Rng, text: string) => string][] = [
  ['truncated', (rng, text) => text.slice(0, Math.floor(rng() * text.length))],
  [
    'NUL bytes',
    (rng, text) => {
      const at = Math.floor(rng() * text.length);
      return `${text.slice(0, at)}\u0000${text.slice(at)}`;
    },
  ],
  ['NUL in a value', (_rng, text) => text.replace('"net1"', '"net\\u0000one"')],
  ['not an object', (rng) => pick(rng, ['[]', '"x"', '1', 'null', 'true', ''])],
  [
    'deep nesting',
    (rng, text) => {
      const depth = pick(rng, [1_000, 100_000]);
      return text.replace(/}\s*$/, `,"deep":${deepNesting(depth, '[', ']')}}`);
    },
  ],
  [
    'deep objects',
    (_rng, text) =>
      text.replace(/}\s*$/, `,"deep":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`),
  ],
  ['duplicate keys', (_rng, text) => text.replace(/^\{/, '{"name":"other","type":"x",')],
  [
    'garbage',
    (rng) => String.fromCharCode(...Array.from({ length: 200 }, () => Math.floor(rng() * 65_536))),
  ],
  ['BOM', (_rng, text) => `\ufeff${text}`],
];

/** Mutations of the environment. */
const ENV_MUTATIONS: [
  string,
  (rng: Rng, env: Record<string, string>, ctx: CaseContext) => string,
][] = [
  [
    'CNI_COMMAND',
    (rng, env) => {
      env.CNI_COMMAND = pick(rng, [
        'add',
        'ADD ',
        'DELETE',
        '',
        'VERSION',
        'GC',
        'STATUS',
        'CHECK',
        'X'.repeat(500),
      ]);
      return env.CNI_COMMAND.slice(0, 20);
    },
  ],
  [
    'CNI_CONTAINERID',
    (rng, env) => {
      env.CNI_CONTAINERID = pick(rng, [
        ...NASTY_STRINGS.filter((s) => !s.includes('\u0000')),
        '../../var/lib/cni',
        '/etc/passwd',
        'c'.repeat(1000),
      ]);
      return env.CNI_CONTAINERID.slice(0, 20);
    },
  ],
  [
    'CNI_IFNAME',
    (rng, env) => {
      env.CNI_IFNAME = pick(rng, [
        'eth0123456789abcdef',
        'sixteen-bytes-xx',
        '../eth0',
        'a/b',
        ' ',
        '.',
        '..',
        'éth0',
        'eth 0',
        '',
        'lo',
        'eth0\n',
      ]);
      return JSON.stringify(env.CNI_IFNAME);
    },
  ],
  [
    'CNI_NETNS',
    (rng, env, ctx) => {
      env.CNI_NETNS = nastyNetns(rng, ctx);
      return env.CNI_NETNS;
    },
  ],
  [
    'CNI_ARGS',
    (rng, env) => {
      env.CNI_ARGS = pick(rng, CNI_ARGS);
      return env.CNI_ARGS.slice(0, 40);
    },
  ],
  [
    'CNI_PATH',
    (rng, env) => {
      env.CNI_PATH = pick(rng, ['', '/nonexistent', '../..', ':::', `/tmp:${env.CNI_PATH ?? ''}`]);
      return env.CNI_PATH;
    },
  ],
  [
    'missing variable',
    (rng, env) => {
      const name = pick(rng, [
        'CNI_COMMAND',
        'CNI_CONTAINERID',
        'CNI_IFNAME',
        'CNI_NETNS',
        'CNI_PATH',
      ]);
      Reflect.deleteProperty(env, name);
      return name;
    },
  ],
];

/** The `count` cases of `seed`, starting at case `from` (so a run can be split). */
export function hostileCases(
  options: { seed: number; count: number; from?: number },
  ctx: (plugin: HostileCase['plugin']) => CaseContext & { env: Record<string, string> },
): HostileCase[] {
  const cases: HostileCase[] = [];
  const from = options.from ?? 0;
  for (let index = from; index < from + options.count; index++) {
    // One stream per case: case N is the same whatever else was generated.
    const rng = seededRandom(options.seed * 1_000_003 + index);
    const plugin = rng() < 0.5 ? 'calico' : 'calico-ipam';
    const base = ctx(plugin);
    const conf = structuredClone(base.netconf);
    const env: Record<string, string> = { ...base.env, CNI_CONTAINERID: `fz-${index}` };
    env.CNI_COMMAND = pick(rng, ['ADD', 'ADD', 'ADD', 'DEL', 'CHECK']);
    const mutations: string[] = [];
    const rounds = 1 + Math.floor(rng() * 3);
    let raw: string | undefined;
    for (let r = 0; r < rounds; r++) {
      const kind = rng();
      if (kind < 0.45) {
        const [name, mutate] = pick(rng, OBJECT_MUTATIONS);
        mutations.push(`${name}: ${mutate(rng, conf)}`);
      } else if (kind < 0.8) {
        const [name, mutate] = pick(rng, ENV_MUTATIONS);
        mutations.push(`${name}: ${mutate(rng, env, base)}`);
      } else {
        const [name, mutate] = pick(rng, RAW_MUTATIONS);
        raw = mutate(rng, raw ?? JSON.stringify(conf));
        mutations.push(name);
      }
    }
    cases.push({
      index,
      plugin,
      mutations,
      env,
      stdin: Buffer.from(raw ?? JSON.stringify(conf), 'utf8'),
    });
  }
  return cases;
}
