import { counted, countsTotal, type KvCounts, addCounts } from './etcd-requests';
import type { Pod, Pods } from './pods';
import {
  cniEnv,
  mustSucceed,
  NODE_FLOOR,
  REFERENCE_DIR,
  type CalicoBuild,
  type Command,
} from './runner';
import type { BenchSetup } from './setup';

// The latency series, interleaved: each round runs every series once (an ADD always before its
// DEL), starting one step further along each round, so that drift on a shared machine and
// whatever a command leaves warm hit every series alike.

/** One measured series: its samples and, for our plugins, etcd requests per call. */
export interface Series {
  name: string;
  samples: number[];
  /** etcd KV requests of each call, in run order (absent for commands that use no etcd). */
  requests?: number[];
  /** The same requests summed by gRPC method over all calls. */
  methods?: KvCounts;
}

/** The series names, in the order the report shows them. */
export const SERIES = [
  'node -e 0',
  'node -e 0, fresh copy',
  'calico VERSION',
  'calico SEA VERSION',
  'ptp + host-local ADD',
  'ptp + host-local DEL',
  'calico ADD',
  'calico DEL',
  'calico SEA ADD',
  'calico SEA DEL',
  'calico-ipam ADD',
  'calico-ipam DEL',
] as const;

/** A series name. */
export type SeriesName = (typeof SERIES)[number];

interface Step {
  name: SeriesName;
  command: Command;
  /** Count etcd requests of this step. */
  etcd: boolean;
}

/** The steps of round `i`: groups that must stay in order, rotated by `i`. */
function round(setup: BenchSetup, i: number, pods: { ptp: Pod; calico: Pod }): Step[] {
  const id = (what: string) => `${what}-${i}`;
  const ptp = (verb: 'ADD' | 'DEL'): Step => ({
    name: `ptp + host-local ${verb}`,
    etcd: false,
    command: {
      argv: [`${REFERENCE_DIR}/ptp`],
      env: cniEnv(verb, { containerId: id('ptp'), netns: pods.ptp.path, cniPath: REFERENCE_DIR }),
      stdin: setup.ptpConf,
    },
  });
  const calico = (build: CalicoBuild, verb: 'ADD' | 'DEL'): Step => ({
    name: `${build} ${verb}`,
    etcd: true,
    command: {
      argv: [setup.plugins.calico[build]],
      env: cniEnv(verb, {
        containerId: id(build === 'calico' ? 'cal' : 'sea'),
        netns: pods.calico.path,
        cniPath: setup.cniPath,
      }),
      stdin: setup.calicoConf,
    },
  });
  const ipam = (verb: 'ADD' | 'DEL'): Step => ({
    name: `calico-ipam ${verb}`,
    etcd: true,
    command: {
      argv: [setup.plugins.calicoIpam],
      env: cniEnv(verb, {
        containerId: id('ipam'),
        netns: pods.calico.path,
        cniPath: setup.cniPath,
      }),
      stdin: setup.calicoConf,
    },
  });
  const version = (build: CalicoBuild): Step => ({
    name: `${build} VERSION`,
    etcd: false,
    // libcni's VERSION probe (cni-contract.md §10.5).
    command: {
      argv: [setup.plugins.calico[build]],
      env: {
        ...cniEnv('VERSION', { containerId: '', netns: 'dummy', cniPath: 'dummy' }),
        CNI_IFNAME: 'dummy',
      },
      stdin: '{"cniVersion":"1.0.0"}',
    },
  });
  const groups: Step[][] = [
    [
      {
        name: 'node -e 0',
        etcd: false,
        command: NODE_FLOOR,
      },
    ],
    [
      {
        name: 'node -e 0, fresh copy',
        etcd: false,
        command: { ...NODE_FLOOR, argv: [setup.plugins.freshNode, '-e', '0'] },
      },
    ],
    [version('calico')],
    [version('calico SEA')],
    [ptp('ADD'), ptp('DEL')],
    [calico('calico', 'ADD'), calico('calico', 'DEL')],
    [calico('calico SEA', 'ADD'), calico('calico SEA', 'DEL')],
    [ipam('ADD'), ipam('DEL')],
  ];
  const shift = i % groups.length;
  return [...groups.slice(shift), ...groups.slice(0, shift)].flat();
}

/** Runs one unrecorded round (first block claim, page cache), then `runs` recorded rounds. */
export async function measureLatency(
  setup: BenchSetup,
  options: { runs: number; pods: Pods },
): Promise<Series[]> {
  const series = new Map<SeriesName, Series>(SERIES.map((name) => [name, { name, samples: [] }]));
  for (let i = -1; i < options.runs; i++) {
    const [ptp, calico] = await options.pods.createMany(2);
    if (ptp === undefined || calico === undefined) throw new Error('no pod namespaces');
    for (const step of round(setup, i, { ptp, calico })) {
      const { value: run, counts } = step.etcd
        ? await counted(setup.endpoint, () => mustSucceed(step.name, step.command))
        : { value: await mustSucceed(step.name, step.command), counts: {} };
      if (i < 0) continue;
      const s = series.get(step.name);
      if (s === undefined) continue;
      s.samples.push(run.ms);
      if (step.etcd) {
        (s.requests ??= []).push(countsTotal(counts));
        addCounts((s.methods ??= {}), counts);
      }
    }
    await options.pods.remove(ptp, calico);
  }
  return [...series.values()];
}
