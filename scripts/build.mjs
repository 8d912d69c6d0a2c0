// Bundles each plugin into one self-contained executable file in dist/ (no node_modules needed).
import { build } from 'esbuild';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

export const BINARIES = {
  calico: 'plugins/calico/main.ts',
  'calico-ipam': 'plugins/calico-ipam/main.ts',
};

await mkdir(join(root, 'dist'), { recursive: true });
for (const [name, entry] of Object.entries(BINARIES)) {
  const outfile = join(root, 'dist', name);
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // CommonJS: an extensionless file with no package.json beside it is loaded as CJS, and esbuild
    // wraps CJS dependencies lazily, so commander's body only runs when a flag is given.
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    banner: { js: '#!/usr/bin/env node' },
    // The gRPC transport (etcd_transport: "grpc") loads etcd3 at run time; bundling it would cost
    // every start ~28 ms of parsing and it needs its .proto files beside it anyway. Without
    // etcd3 installed, selecting gRPC fails with an error that says to use the JSON gateway.
    external: ['etcd3'],
    define: { __CALICO_VERSION__: JSON.stringify(version) },
    logLevel: 'warning',
  });
  await chmod(outfile, 0o755);
}
console.log(
  `built ${Object.keys(BINARIES)
    .map((n) => `dist/${n}`)
    .join(', ')} (v${version})`,
);
