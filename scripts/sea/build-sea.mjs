// `npm run build:sea`: the plugins as one self-contained executable, dist/sea/calico, with
// dist/sea/calico-ipam a hard link to it (upstream ships one binary under both names too). It is
// this Node.js binary with a Single Executable Application blob injected (postject): the loader
// (loader.cjs) and, as assets, each plugin's bundle and trained code cache. Hosts need no Node.js,
// and a pod start skips the `env` lookup, reading the ~600 KB script file and scanning its payload
// literals. The cost is size: the binary is a copy of node (~100 MB).
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

/** The sentinel Node.js looks for to know it carries a blob (Node's SEA documentation). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** The names the binary answers to; the first is the file, the others hard links to it. */
export const SEA_NAMES = ['calico', 'calico-ipam'];

/**
 * Writes dist/sea/ from the plugins' payloads (`{ name: { source, cache } }`, as build.mjs makes
 * them), then checks that each name runs and that V8 accepts its cache.
 */
export async function buildSea(root, payloads) {
  const work = await mkdtemp(join(tmpdir(), 'calico-sea-'));
  const out = join(root, 'dist', 'sea');
  try {
    const assets = {};
    for (const name of SEA_NAMES) {
      const payload = payloads[name];
      if (payload === undefined) throw new Error(`no payload for ${name}`);
      await writeFile(join(work, `${name}.js`), payload.source);
      await writeFile(join(work, `${name}.cache`), payload.cache);
      assets[`${name}.js`] = join(work, `${name}.js`);
      assets[`${name}.cache`] = join(work, `${name}.cache`);
    }
    const blob = join(work, 'sea.blob');
    const config = {
      main: join(root, 'scripts', 'sea', 'loader.cjs'),
      output: blob,
      disableExperimentalSEAWarning: true,
      assets,
    };
    await writeFile(join(work, 'sea-config.json'), JSON.stringify(config));
    execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {
      stdio: 'pipe',
    });
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    const [file, ...aliases] = SEA_NAMES.map((name) => join(out, name));
    await copyFile(process.execPath, file);
    await chmod(file, 0o755);
    inject(file, blob);
    for (const alias of aliases) await link(file, alias);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  for (const name of SEA_NAMES) checkSea(join(out, name), name);
}

/**
 * postject, in a child process: its ELF rewriter warns about every note section it cannot name,
 * which is noise unless the injection fails.
 */
function inject(file, blob) {
  const cli = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  const argv = [cli, file, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE];
  try {
    execFileSync(process.execPath, argv, { stdio: 'pipe' });
  } catch (err) {
    process.stderr.write(`${err.stdout ?? ''}${err.stderr ?? ''}`);
    throw err;
  }
}

/** The binary answers VERSION, runs the bundle of `name` and uses its cache: else the build fails. */
function checkSea(file, name) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', CNI_COMMAND: 'VERSION' };
  const version = JSON.parse(execFileSync(file, [], { env, input: '' }).toString());
  if (!Array.isArray(version.supportedVersions)) {
    throw new Error(`${file} answered VERSION with ${JSON.stringify(version)}`);
  }
  const usage = execFileSync(file, ['--help'], { env }).toString().split('\n')[0];
  if (usage !== `Usage: ${name} [options]`) throw new Error(`${file} runs as: ${usage}`);
  const status = execFileSync(file, ['--code-cache-status'], { env }).toString().trim();
  if (status !== 'accepted') throw new Error(`V8 ${status} the code cache of ${name} in ${file}`);
}
