// Cold-start benchmark: `CNI_COMMAND=VERSION dist/calico` and dist/calico-ipam beside bare
// `node -e 0`, in one hyperfine run, with only the environment a runtime passes (PATH and CNI_*;
// this machine's shells also export NODE_EXTRA_CA_CERTS, which costs ~30 ms per Node start).
// Usage: node scripts/bench-version.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 30;
const root = resolve(import.meta.dirname, '..');
const node = process.execPath;
const work = mkdtempSync(join(tmpdir(), 'bench-version-'));
const out = join(work, 'hyperfine.json');

// libcni's VERSION probe environment (cni-contract.md §10.5).
const runtimeEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  CNI_COMMAND: 'VERSION',
  CNI_CONTAINERID: '',
  CNI_NETNS: 'dummy',
  CNI_IFNAME: 'dummy',
  CNI_ARGS: '',
  CNI_PATH: 'dummy',
};

const commands = [
  ['node -e 0', `${node} -e 0`],
  ['calico VERSION', join(root, 'dist/calico')],
  ['calico-ipam VERSION', join(root, 'dist/calico-ipam')],
];
const args = [
  '-N',
  '--runs',
  String(runs),
  '--warmup',
  '3',
  '--export-json',
  out,
  '--style',
  'basic',
];
for (const [name, command] of commands) args.push('-n', name, command);

// hyperfine passes its own environment to the commands: give it only the runtime's.
const r = spawnSync('hyperfine', args, {
  env: runtimeEnv,
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (r.error !== undefined || r.status !== 0) {
  console.error(
    `hyperfine failed (${r.error?.message ?? `exit ${r.status}`}); apt-get install hyperfine`,
  );
  process.exit(1);
}
const { results } = JSON.parse(readFileSync(out, 'utf8'));
rmSync(work, { recursive: true, force: true });

const ms = (s) => (s * 1000).toFixed(1);
const floor = results[0].median;
console.log(`\n| command | median ms | mean ms | min ms | ratio to node -e 0 (median) |`);
console.log(`|---|---|---|---|---|`);
for (const x of results) {
  console.log(
    `| ${x.command} | ${ms(x.median)} | ${ms(x.mean)} | ${ms(x.min)} | ${(x.median / floor).toFixed(2)} |`,
  );
}
const worst = Math.max(...results.slice(1).map((x) => x.median / floor));
console.log(
  `\n${runs} runs each; target: VERSION median within 1.3x of node -e 0 -> ${worst <= 1.3 ? 'met' : 'NOT met'} (${worst.toFixed(2)}x)`,
);
