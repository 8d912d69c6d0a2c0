import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type InstalledPlugins } from './runner';

// The benchmark times what a node runs: the plugins as scripts/install leaves them, the scripts
// with this Node.js in their #! line (the same one `node -e 0` is timed with) and their code cache
// beside them, and the single executable under its plugin name. Staged under the run's scratch
// directory, never the real /opt/cni/bin.

/** Installs both layouts and a fresh copy of node under `work`; returns the files to exec. */
export function installPlugins(work: string): InstalledPlugins {
  const scripts = join(work, 'scripts');
  const sea = join(work, 'sea');
  install(scripts, []);
  install(sea, ['--sea']);
  const binDir = join(scripts, 'opt/cni/bin');
  // Written as scripts/install writes the single executable: one new file.
  const freshNode = join(work, 'node');
  writeFileSync(freshNode, readFileSync(process.execPath), { mode: 0o755 });
  return {
    freshNode,
    calico: { calico: join(binDir, 'calico'), 'calico SEA': join(sea, 'opt/cni/bin/calico') },
    calicoIpam: join(binDir, 'calico-ipam'),
    binDir,
  };
}

function install(root: string, extra: string[]): void {
  const run = spawnSync(
    join(ROOT, 'scripts', 'install'),
    ['--root', root, '--node', process.execPath, '--nodename', 'bench-installed', ...extra],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  );
  if (run.status !== 0) {
    throw new Error(`scripts/install --root ${root} failed: ${run.stderr.trim() || run.error}`);
  }
}
