'use strict';
// The main script of the single executable (`npm run build:sea`). One binary serves both plugins,
// as upstream's calico binary is also calico-ipam: the name it is run by picks the bundle. Each
// bundle and its trained V8 code cache are assets of the binary, read from memory: no file to
// read, no payload literal to scan, no `env` to find node.
const { getRawAsset } = require('node:sea');
const { Script } = require('node:vm');
const { createRequire } = require('node:module');
const { basename } = require('node:path');

const name = basename(process.argv0) === 'calico-ipam' ? 'calico-ipam' : 'calico';

/** The bundle, compiled from its cache; undefined (reported as a CNI error) if an asset is bad. */
function compiled() {
  try {
    const source = Buffer.from(getRawAsset(`${name}.js`)).toString('utf8');
    const cachedData = Buffer.from(getRawAsset(`${name}.cache`));
    return new Script(source, { filename: `${name}.js`, cachedData });
  } catch (err) {
    // The bundle that would report it never ran: say it the CNI way, on stdout, with exit 1.
    const why = err instanceof Error ? err.message : String(err);
    const msg = `${name}: broken single executable: ${why}`;
    process.stdout.write(`${JSON.stringify({ cniVersion: '0.3.1', code: 999, msg })}\n`);
    process.exitCode = 1;
    return undefined;
  }
}

const script = compiled();
if (script !== undefined && process.argv[2] === '--code-cache-status') {
  // For operators and the build's own check: does this binary's V8 use the embedded cache?
  process.stdout.write(`${script.cachedDataRejected === true ? 'rejected' : 'accepted'}\n`);
} else if (script !== undefined) {
  // A full require, not the single executable's built-ins-only one: the optional etcd3 package
  // (etcd_transport "grpc") resolves beside the binary, as it does beside the script bundle.
  script.runInThisContext()(
    exports,
    createRequire(process.execPath),
    module,
    __filename,
    __dirname,
  );
}
