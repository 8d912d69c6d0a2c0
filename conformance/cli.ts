import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { withPrivateEtcd } from './etcd-confs';
import { runHarness, type HarnessOptions } from './harness';
import type { NetConf } from './netconf';
import { formatItem, formatTally, tally } from './report';
import { isObject } from './stdout';

const USAGE = `usage: conformance --plugin PATH [--ipam] [--netconf FILE | --etcd] [--only IDS]
  --timings  log each item's run time on stderr
  --only  comma-separated item ids or prefixes to run (e.g. D,F63); default every item
  --etcd  keep IPAM state in a private etcd (Calico IPAM: calico-ipam, calico), relayed into the
          node netns; needs the etcd binary (Debian package etcd-server)`;

/** Read and sanity-check a single-plugin network config file. */
function readNetconf(path: string): NetConf {
  const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!isObject(value)) throw new Error(`${path}: not a JSON object`);
  if ('plugins' in value) throw new Error(`${path}: a conflist; give a single plugin config`);
  return value;
}

/** Parse argv, run the harness, print one line per item and the tally; exit 0 iff none failed. */
async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        plugin: { type: 'string' },
        ipam: { type: 'boolean', default: false },
        netconf: { type: 'string' },
        etcd: { type: 'boolean', default: false },
        only: { type: 'string' },
        timings: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  if (values.plugin === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (values.etcd && values.netconf !== undefined) {
    process.stderr.write(`--etcd and --netconf exclude each other\n${USAGE}\n`);
    return 2;
  }
  const options: HarnessOptions = {
    plugin: values.plugin,
    kind: values.ipam ? 'ipam' : 'main',
    ...(values.netconf === undefined ? {} : { netconf: readNetconf(values.netconf) }),
    ...(values.only === undefined ? {} : { only: values.only.split(',').map((s) => s.trim()) }),
    timings: values.timings,
    onItem: (item) => process.stdout.write(`${formatItem(item)}\n`),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const results = values.etcd
    ? await withPrivateEtcd((etcd) => runHarness({ ...options, etcd }))
    : await runHarness(options);
  const t = tally(results);
  process.stdout.write(`${formatTally(t)}\n`);
  return t.failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`conformance: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
