import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

// The libcni client (libcni-client/main.go) is compiled offline in GOPATH mode against Debian's
// golang-github-appc-cni-dev, so that building it downloads nothing. The binary is cached under
// node_modules/.cache, named by a hash of its inputs: a changed main.go, Go or libcni rebuilds it.

const execFileAsync = promisify(execFile);

const REPO = resolve(__dirname, '..');
const SOURCE = join(__dirname, 'libcni-client', 'main.go');
const CACHE = join(REPO, 'node_modules', '.cache', 'libcni-client');
/** Where Debian's golang-*-dev packages put their sources. */
const GOCODE = '/usr/share/gocode';
const LIBCNI = join(GOCODE, 'src', 'github.com', 'containernetworking', 'cni', 'libcni');
const GO = ['/usr/bin/go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go'].find((p) => existsSync(p));

/** The built client, or why it cannot be built here. */
export type LibcniClient = { path: string } | { missing: string };

/** A key that changes when the client's source, the Go toolchain or libcni changes. */
async function inputsKey(go: string): Promise<string> {
  const { stdout: goVersion } = await execFileAsync(go, ['version'], { timeout: 30_000 });
  const hash = createHash('sha256').update(readFileSync(SOURCE)).update(goVersion);
  for (const file of ['api.go', 'conf.go']) {
    const st = statSync(join(LIBCNI, file));
    hash.update(`${file} ${String(st.size)} ${String(st.mtimeMs)}`);
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Compiles the libcni client once (later calls reuse the cached binary) and returns its path, or
 * says why it cannot: Go (Debian `golang-go`) or libcni's source (`golang-github-appc-cni-dev`)
 * is missing. A failed build throws.
 */
export async function buildLibcniClient(): Promise<LibcniClient> {
  if (GO === undefined) return { missing: 'go not found (install the Debian package golang-go)' };
  if (!existsSync(LIBCNI))
    return {
      missing: `libcni source not found in ${LIBCNI} (install the Debian package golang-github-appc-cni-dev)`,
    };
  const path = join(CACHE, `libcni-client-${await inputsKey(GO)}`);
  if (existsSync(path)) return { path };
  mkdirSync(CACHE, { recursive: true });
  // Built under a private name and renamed: concurrent builders (parallel test files) never see a
  // half-written binary, and the last rename wins with identical content.
  const partial = `${path}.${randomBytes(4).toString('hex')}.partial`;
  try {
    await execFileAsync(GO, ['build', '-o', partial, SOURCE], {
      timeout: 300_000,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? CACHE,
        GO111MODULE: 'off',
        GOPATH: join(CACHE, 'gopath') + ':' + GOCODE,
        GOCACHE: join(CACHE, 'go-build'),
        GOFLAGS: '',
        GOPROXY: 'off',
        CGO_ENABLED: '0',
      },
    });
    renameSync(partial, path);
  } catch (err: unknown) {
    rmSync(partial, { force: true });
    // Not a "missing": with Go and libcni present a failed build is a defect to report.
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`go build of ${SOURCE} failed: ${stderr.trim() || String(err)}`);
  }
  return { path };
}
