import { HANDLES_PREFIX, WORKLOAD_ENDPOINTS_PREFIX } from '../../lib/datastore/calico/keys';
import { ip } from '../../netns-tests/support/topology';
import { counted, countsTotal } from './etcd-requests';
import type { Pods } from './pods';
import { cniEnv, NODE_FLOOR, timed, type CalicoBuild, type Timed } from './runner';
import { waitForQuiet } from './quiet';
import { NETWORK, type BenchSetup } from './setup';

// N pods started at once on one node, as a node drain or a deployment scale-up does (real Calico
// needed 2–3 minutes for 100, calico#5612), then all deleted at once. Failures here are figures,
// not errors: the report shows them against the target.

/** One wave of concurrent calls. */
export interface Wave {
  wallMs: number;
  failures: number;
  /** The first few error outputs, for the report. */
  errors: string[];
  etcdRequests: number;
}

/** The burst's figures. */
export interface BurstResult {
  build: CalicoBuild;
  size: number;
  add: Wave & { addresses: number; duplicates: number };
  del: Wave & { leftovers: { links: number; endpoints: number; handles: number } };
}

async function wave(
  setup: BenchSetup,
  calls: () => Promise<Timed>[],
): Promise<{ runs: Timed[]; wave: Wave }> {
  const started = process.hrtime.bigint();
  const { value: runs, counts } = await counted(setup.endpoint, () => Promise.all(calls()));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const failed = runs.filter((r) => r.code !== 0);
  return {
    runs,
    wave: {
      wallMs,
      failures: failed.length,
      errors: failed
        .slice(0, 3)
        .map((r) =>
          [r.stdout.trim(), r.stderr.trim().slice(-300)].filter((t) => t !== '').join(' '),
        ),
      etcdRequests: countsTotal(counts),
    },
  };
}

/** Creates `size` pod namespaces, ADDs them all at once, then DELs them all at once. */
export async function measureBurst(
  setup: BenchSetup,
  options: { size: number; pods: Pods; build: CalicoBuild },
): Promise<BurstResult> {
  const pods = await options.pods.createMany(options.size);
  const id = (i: number) => `burst-${i}`;
  const call = (verb: 'ADD' | 'DEL') => () =>
    pods.map((pod, i) =>
      timed({
        argv: [setup.plugins.calico[options.build]],
        env: cniEnv(verb, { containerId: id(i), netns: pod.path, cniPath: setup.cniPath }),
        stdin: setup.calicoConf,
      }),
    );
  try {
    await waitForQuiet();
    const add = await wave(setup, call('ADD'));
    const addresses = add.runs.flatMap((r) =>
      r.code === 0
        ? ((r.json?.ips as { address: string }[] | undefined) ?? []).map(
            (x) => x.address.split('/')[0],
          )
        : [],
    );
    await waitForQuiet();
    const del = await wave(setup, call('DEL'));
    // This process runs in the node netns: these are the node's links.
    const links = (JSON.parse(await ip('-j', 'link', 'show')) as { ifname: string }[]).filter((l) =>
      l.ifname.startsWith('cali'),
    );
    const endpoints = await setup.kv.range(WORKLOAD_ENDPOINTS_PREFIX, {
      prefix: true,
      keysOnly: true,
    });
    const handles = await setup.kv.range(`${HANDLES_PREFIX}${NETWORK}.burst-`, {
      prefix: true,
      keysOnly: true,
    });
    return {
      build: options.build,
      size: options.size,
      add: {
        ...add.wave,
        addresses: addresses.length,
        duplicates: addresses.length - new Set(addresses).size,
      },
      del: {
        ...del.wave,
        leftovers: {
          links: links.length,
          endpoints: endpoints.kvs.length,
          handles: handles.kvs.length,
        },
      },
    };
  } finally {
    await options.pods.remove(...pods);
  }
}

/**
 * The floor of a burst: `size` concurrent `node -e 0`, started and timed as the ADDs are. On a
 * 2-core node a hundred Node starts alone take seconds; no Node plugin's burst can be shorter.
 */
export async function measureBurstFloor(size: number): Promise<{ size: number; wallMs: number }> {
  await waitForQuiet();
  const started = process.hrtime.bigint();
  const runs = await Promise.all(Array.from({ length: size }, () => timed(NODE_FLOOR)));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const failed = runs.find((r) => r.code !== 0);
  if (failed !== undefined) throw new Error(`node -e 0 exited ${failed.code}: ${failed.stderr}`);
  return { size, wallMs };
}
