// Bundles each plugin into one executable script in dist/ (no node_modules needed): a small loader
// around the bundle. Beside it, dist/NAME.cache holds a V8 code cache made here: a fresh process
// then skips compiling the bundle and the functions an ADD or DEL calls. For the two plugins the
// cache is taken after a training run of ADDs and DELs (scripts/code-cache/train.ts): ~6 ms of
// every pod start for the bundle, ~7 ms more for the functions. The cache only fits the Node.js/V8
// that built it; under another one, or when the file is missing, V8 compiles as usual. It is a
// file of its own, not a base64 literal in the script: Node reads and scans every byte of a main
// script, and the 0.5 MB literal cost every start ~14 ms (60 interleaved VERSION runs: 86.2 ms
// against 71.8 ms; node -e 0 63.7 ms).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { buildSea } from './sea/build-sea.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

export const BINARIES = {
  calico: 'plugins/calico/main.ts',
  'calico-ipam': 'plugins/calico-ipam/main.ts',
  // The operator CLI: same settings; humans run it, so its start time matters less.
  calicoctl: 'cli/calicoctl/main.ts',
};
/** The binaries whose code cache is trained (what runtimes run on every pod start). */
const TRAINED = new Set(['calico', 'calico-ipam']);

/** Each bundle as run (a CommonJS function body) and its code cache, for the single executable. */
const payloads = {};
await mkdir(join(root, 'dist'), { recursive: true });
for (const [name, entry] of Object.entries(BINARIES)) {
  const outfile = join(root, 'dist', name);
  const result = await build({
    entryPoints: [join(root, entry)],
    write: false,
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // CommonJS: an extensionless file with no package.json beside it is loaded as CJS, and esbuild
    // wraps CJS dependencies lazily, so commander's body only runs when a flag is given.
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    // import() of node built-ins and etcd3 becomes require(): the bundle runs inside vm.Script,
    // which has no loader for dynamic imports.
    supported: { 'dynamic-import': false },
    // The gRPC transport (etcd_transport: "grpc") loads etcd3 at run time; bundling it would cost
    // every start ~28 ms of parsing and it needs its .proto files beside it anyway. Without
    // etcd3 installed, selecting gRPC fails with an error that says to use the JSON gateway.
    external: ['etcd3'],
    define: { __CALICO_VERSION__: JSON.stringify(version) },
    logLevel: 'warning',
  });
  const bundle = result.outputFiles[0]?.text;
  if (bundle === undefined) throw new Error(`esbuild produced nothing for ${entry}`);
  const payload = await withCodeCache(bundle, name);
  payloads[name] = payload;
  // The cache first: a runtime that execs the new script with the old cache only compiles.
  await writeFile(`${outfile}.cache`, payload.cache, { mode: 0o644 });
  await writeFile(outfile, loaderScript(name, payload), { mode: 0o755 });
  await chmod(outfile, 0o755);
  // The script finds its cache beside it and V8 takes it: else every start would compile.
  const status = execFileSync(process.execPath, [outfile, '--code-cache-status'], { env: {} });
  if (status.toString().trim() !== 'accepted') {
    throw new Error(`V8 ${status.toString().trim()} the code cache of ${outfile}`);
  }
}

/** The bundle as a CommonJS function body and a code cache V8 accepts for it. */
async function withCodeCache(bundle, name) {
  const source = `(function (exports, require, module, __filename, __dirname) {${bundle}\n})`;
  const cache = TRAINED.has(name)
    ? await trainedCache(source, name)
    : new Script(source, { filename: `${name}.js` }).createCachedData();
  // A cache this Node.js rejects would cost every start a full compile: fail the build instead.
  if (new Script(source, { filename: `${name}.js`, cachedData: cache }).cachedDataRejected) {
    throw new Error(`V8 rejects the code cache made for ${name}`);
  }
  return { source, cache };
}

/**
 * The executable script: a small loader with the bundle as a literal, and its code cache read
 * from NAME.cache beside it when there is one. `--code-cache-status` says whether V8 took it.
 */
function loaderScript(name, { source }) {
  return [
    '#!/usr/bin/env node',
    `// ${name} ${version}: Calico CNI plugin bundle; ${name}.cache beside it is its V8 code cache for Node ${process.version}.`,
    '"use strict";',
    `const { Script } = require("node:vm");`,
    `const source = ${JSON.stringify(source)};`,
    'let cachedData;',
    'try {',
    '  cachedData = require("node:fs").readFileSync(`${__filename}.cache`);',
    '} catch {',
    '  // No cache (the script was copied alone): V8 compiles as usual.',
    '}',
    `const script = new Script(source, { filename: ${JSON.stringify(`${name}.js`)}, cachedData });`,
    'if (process.argv[2] === "--code-cache-status") {',
    '  const status = cachedData === undefined ? "missing" : script.cachedDataRejected ? "rejected" : "accepted";',
    '  process.stdout.write(`${status}\\n`);',
    '} else {',
    '  script.runInThisContext()(exports, require, module, __filename, __dirname);',
    '}',
    '',
  ].join('\n');
}

/** The code cache after a training run (scripts/code-cache/train.ts) in a separate process. */
async function trainedCache(source, name) {
  const dir = await mkdtemp(join(tmpdir(), 'calico-code-cache-'));
  try {
    const sourceFile = join(dir, `${name}.js`);
    const cacheFile = join(dir, `${name}.cache`);
    await writeFile(sourceFile, source);
    const train = join(root, 'scripts', 'code-cache', 'train.ts');
    execFileSync(process.execPath, ['--import', 'tsx', train, name, sourceFile, cacheFile], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return await readFile(cacheFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sea = process.argv.includes('--sea');
if (sea) await buildSea(root, payloads);

console.log(
  `built ${[...Object.keys(BINARIES).map((n) => `dist/${n}`), ...(sea ? ['dist/sea/'] : [])].join(', ')} (v${version})`,
);
