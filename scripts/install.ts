import { createHash } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parseIpamNetConf } from '../lib/calico/ipam-netconf';
import { parseMainNetConf } from '../lib/calico/main-netconf';
import { parseNetConf } from '../lib/cni/netconf';
import { etcdSettings } from '../lib/datastore/config';

// scripts/install: what Calico's install-cni container does on a node, for this project. Copies
// dist/calico and dist/calico-ipam (with --sea: the single executable, under both names) into the
// CNI bin dir (and dist/calicoctl beside the admin's
// tools), writes the conflist (calico, plus portmap when the bin dir has it) and the nodename
// file when it is absent. Every path can be staged under --root. A different existing file is
// never overwritten without --force; the conflist is checked with our own netconf parsers before
// it is written and again as read back. A script's `#!/usr/bin/env node` becomes `#!NODE`, the
// Node.js that runs this script unless --node says otherwise: a runtime passes its own PATH (where
// node may not be, or may be another version than the code cache beside the script was made
// for), and the exec of env and its PATH search cost every pod start ~2-3 ms.

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Options {
  root: string;
  binDir: string;
  ctlDir: string;
  confDir: string;
  conflist: string;
  nodename: string;
  etcdEndpoints: string;
  dist: string;
  node: string;
  sea?: boolean;
  force?: boolean;
}

const program = new Command('install')
  .description('install the calico CNI plugins, calicoctl and a conflist')
  .option('--root <dir>', 'stage every path under this directory (like DESTDIR)', '/')
  .option('--prefix <dir>', 'the same as --root')
  .option('--bin-dir <dir>', 'CNI plugin directory', '/opt/cni/bin')
  .option('--ctl-dir <dir>', 'where calicoctl goes', '/usr/local/bin')
  .option('--conf-dir <dir>', 'CNI configuration directory', '/etc/cni/net.d')
  .option('--conflist <name>', 'conflist file name', '10-calico.conflist')
  .option('--nodename <name>', 'node name for /var/lib/calico/nodename', hostname())
  .option('--etcd-endpoints <urls>', 'etcd endpoints for the plugins', 'http://127.0.0.1:2379')
  .option('--dist <dir>', 'where the built bundles are', join(repo, 'dist'))
  .option('--node <path>', "the Node.js in the scripts' #! line", process.execPath)
  .option(
    '--sea',
    'install the plugins as the single executable (npm run build:sea): no Node.js needed',
  )
  .option('--force', 'overwrite existing files that differ')
  .parse();

const raw = program.opts<Options & { prefix?: string }>();
const options: Options = { ...raw, root: resolve(raw.prefix ?? raw.root) };
const staged = (path: string): string => join(options.root, path);

/** One file to install: its content and mode. */
interface Target {
  path: string;
  content: Buffer;
  mode: number;
}

function conflist(withPortmap: boolean): string {
  const list = {
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    plugins: [
      {
        type: 'calico',
        log_level: 'info',
        log_file_path: '/var/log/calico/cni/cni.log',
        datastore_type: 'etcdv3',
        etcd_endpoints: options.etcdEndpoints,
        nodename_file: '/var/lib/calico/nodename',
        mtu: 0,
        ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'false' },
        policy: { type: '' },
      },
      ...(withPortmap
        ? [{ type: 'portmap', snat: true, capabilities: { portMappings: true } }]
        : []),
    ],
  };
  return `${JSON.stringify(list, null, 2)}\n`;
}

/**
 * Checks a conflist as a runtime and our plugins will read it: JSON, then each plugin's stdin
 * (the plugin object plus the list's name and cniVersion, as libcni derives it) through the CNI
 * contract parser, and calico's through its own netconf and etcd settings parsers.
 */
function validateConflist(text: string, where: string): void {
  const fail = (problem: string): never => {
    throw new Error(`${where}: ${problem}`);
  };
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (err) {
    fail(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { name, cniVersion, plugins } = list as Record<string, unknown>;
  if (!Array.isArray(plugins) || plugins.length === 0) fail('plugins: must be a non-empty list');
  for (const [i, plugin] of (plugins as Record<string, unknown>[]).entries()) {
    const conf = { ...plugin, name, cniVersion };
    try {
      parseNetConf(Buffer.from(JSON.stringify(conf)), 'ADD');
      if (plugin.type === 'calico') {
        // Files it would read on the node: the nodename file this script writes, nothing else.
        parseMainNetConf(conf, {
          readFile: (path) => (path === '/var/lib/calico/nodename' ? options.nodename : undefined),
        });
        parseIpamNetConf(conf);
        etcdSettings(conf, {});
      }
    } catch (err) {
      fail(
        `plugins[${i}] (${String(plugin.type)}): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}

/** The scripts' interpreter line: an absolute path, one word (the kernel splits at a blank). */
function interpreterLine(node: string): string {
  if (!isAbsolute(node) || !/^[\w./+@-]+$/.test(node) || node.length > 200) {
    throw new Error(
      `--node ${JSON.stringify(node)}: must be an absolute path of at most 200 characters without blanks`,
    );
  }
  try {
    accessSync(node, constants.X_OK);
  } catch {
    throw new Error(`--node ${node}: not an executable file`);
  }
  return `#!${node}`;
}

/** A built script with its `#!/usr/bin/env node` line replaced by `line`. */
function withInterpreter(script: Buffer, line: string): Buffer {
  const text = script.toString('latin1');
  const first = text.indexOf('\n');
  if (!text.startsWith('#!') || first < 0) throw new Error('a built script has no #! line');
  return Buffer.from(`${line}${text.slice(first)}`, 'latin1');
}

function sameContent(path: string, content: Buffer): boolean {
  const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  return digest(readFileSync(path)) === digest(content);
}

function main(): void {
  // calicoctl is a script even with --sea.
  const interpreter = interpreterLine(options.node);
  const binaries = ['calico', 'calico-ipam', 'calicoctl'].map((name) => {
    // The single executable answers to both plugin names; calicoctl stays a script.
    const sea = options.sea === true && name !== 'calicoctl';
    const from = join(options.dist, ...(sea ? ['sea'] : []), name);
    const build = sea ? 'npm run build:sea' : 'npm run build';
    if (!existsSync(from)) throw new Error(`${from} is missing: run \`${build}\` first`);
    // A script's V8 code cache is a file beside it (the single executable carries its own).
    const cache = sea || !existsSync(`${from}.cache`) ? undefined : readFileSync(`${from}.cache`);
    const built = readFileSync(from);
    const content = sea ? built : withInterpreter(built, interpreter);
    return { name, content, cache };
  });
  const withPortmap = existsSync(staged(join(options.binDir, 'portmap')));
  const list = conflist(withPortmap);
  const conflistPath = staged(join(options.confDir, options.conflist));
  validateConflist(list, 'the conflist to write');
  const targets: Target[] = [
    ...binaries.flatMap(({ name, content, cache }) => {
      const path = staged(join(name === 'calicoctl' ? options.ctlDir : options.binDir, name));
      // The cache before its script: a runtime that runs the new script with the old cache only
      // compiles it (V8 refuses a cache made for other source).
      return [
        ...(cache === undefined ? [] : [{ path: `${path}.cache`, content: cache, mode: 0o644 }]),
        { path, content, mode: 0o755 },
      ];
    }),
    { path: conflistPath, content: Buffer.from(list), mode: 0o644 },
  ];
  // Checked before anything is written: a refusal leaves the node as it was.
  const different = targets.filter((t) => existsSync(t.path) && !sameContent(t.path, t.content));
  if (different.length > 0 && options.force !== true) {
    throw new Error(
      `refusing to overwrite ${different.map((t) => t.path).join(', ')}: they differ from what would be installed (use --force)`,
    );
  }
  for (const target of targets) {
    const state = !existsSync(target.path)
      ? 'installed'
      : different.includes(target)
        ? 'replaced'
        : 'unchanged';
    mkdirSync(dirname(target.path), { recursive: true });
    if (state !== 'unchanged') copyOrWrite(target);
    chmodSync(target.path, target.mode);
    console.log(`${state.padEnd(9)} ${target.path}`);
  }
  validateConflist(readFileSync(conflistPath, 'utf8'), conflistPath);
  console.log(
    `validated ${conflistPath}: calico${withPortmap ? ' + portmap' : ''} (portmap ${withPortmap ? 'found' : 'not found'} in ${staged(options.binDir)})`,
  );
  const nodenameFile = staged('/var/lib/calico/nodename');
  if (existsSync(nodenameFile)) {
    console.log(`kept      ${nodenameFile} (${readFileSync(nodenameFile, 'utf8').trim()})`);
  } else {
    mkdirSync(dirname(nodenameFile), { recursive: true });
    writeFileSync(nodenameFile, options.nodename, { mode: 0o644 });
    console.log(`installed ${nodenameFile} (${options.nodename})`);
  }
}

function copyOrWrite(target: Target): void {
  // A new file renamed into place: a runtime never execs half a plugin.
  const temporary = `${target.path}.installing`;
  writeFileSync(temporary, target.content, { mode: target.mode });
  renameSync(temporary, target.path);
}

try {
  main();
} catch (err) {
  console.error(`install: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
