import { readlinkSync, statfsSync, statSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import { CniError, ErrorCode } from '../cni/errors';

// What CNI_NETNS points at, judged before anything changes. A bind-mounted namespace
// (/var/run/netns/x) lives on nsfs; /proc/<pid>/ns/net resolves to nsfs too on current kernels
// and was on procfs before Linux 3.19.
const NSFS_MAGIC = 0x6e736673;
const PROC_SUPER_MAGIC = 0x9fa0;

/**
 * What a netns path is: a network namespace, the plugin's own one (never to be configured or
 * cleaned: "eth0" there is the node's), missing, or something else (a stale plain file, another
 * namespace type, a path we may not read).
 */
export type NetnsState = 'netns' | 'own' | 'missing' | 'other';

interface Judged {
  state: NetnsState;
  why: string;
}

function judge(path: string): Judged {
  let stat: Stats | undefined;
  try {
    stat = statSync(path, { throwIfNoEntry: false });
  } catch (err: unknown) {
    // ENOTDIR: a component of the path is a plain file, so nothing is there either.
    if ((err as { code?: unknown }).code === 'ENOTDIR')
      return { state: 'missing', why: 'does not exist' };
    return { state: 'other', why: errorText(err) };
  }
  if (stat === undefined) return { state: 'missing', why: 'does not exist' };
  let magic: number;
  try {
    magic = statfsSync(path).type;
  } catch (err: unknown) {
    return { state: 'other', why: errorText(err) };
  }
  if (magic !== NSFS_MAGIC && magic !== PROC_SUPER_MAGIC) {
    return { state: 'other', why: `unknown FS magic 0x${magic.toString(16)}` };
  }
  // /proc/<pid>/ns/* are magic links whose target names the namespace type; a bind mount is not
  // a link and its type shows only when something enters it (EINVAL from setns).
  const type = namespaceType(path);
  if (type !== undefined && type !== 'net') {
    return { state: 'other', why: `it is a ${type} namespace` };
  }
  const own = statSync('/proc/self/ns/net');
  if (own.dev === stat.dev && own.ino === stat.ino) {
    return { state: 'own', why: "is the plugin's own network namespace" };
  }
  return { state: 'netns', why: 'is a network namespace' };
}

function namespaceType(path: string): string | undefined {
  try {
    return /^(\w+):\[\d+\]$/.exec(readlinkSync(path))?.[1];
  } catch {
    return undefined;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What `path` is, for DEL: only 'netns' may be entered and cleaned. */
export function netnsState(path: string): NetnsState {
  return judge(path).state;
}

/**
 * Refuse (CniError 8) a CNI_NETNS that is missing, is not a network namespace, or is the plugin's
 * own namespace (libcni's ErrInvalidNetNS); called before anything changes.
 */
export function assertUsableNetns(path: string): void {
  const { state, why } = judge(path);
  if (state === 'netns') return;
  const msg =
    state === 'missing'
      ? `netns path ${path} does not exist`
      : state === 'own'
        ? `CNI_NETNS ${path} is the plugin's own network namespace`
        : `netns path ${path} is not a network namespace: ${why}`;
  throw new CniError(ErrorCode.invalidNetns, msg);
}

/** Where iproute2 looks up a netns by name (`ip -n NAME`, `ip netns exec NAME`). */
const NETNS_RUN_DIR = '/var/run/netns';
/** A name that is safe as one token of an `ip -batch` line and as a file under NETNS_RUN_DIR. */
const NETNS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

/**
 * The name under /var/run/netns by which iproute2 reaches the netns at `path`, if it has one:
 * containerd, CRI-O, podman and `ip netns add` all make their pods' namespaces there. With a name,
 * iproute2 enters the netns itself (`ip -n`, and `netns exec` from a batch line), so no nsenter
 * and no process of the plugin's own is needed. The file under that name must be the same
 * namespace (same nsfs inode), not just share the basename.
 */
export function netnsName(path: string): string | undefined {
  const name = basename(path);
  if (!NETNS_NAME.test(name)) return undefined;
  try {
    const named = statSync(`${NETNS_RUN_DIR}/${name}`, { throwIfNoEntry: false });
    if (named === undefined) return undefined;
    const given = statSync(path);
    return named.dev === given.dev && named.ino === given.ino ? name : undefined;
  } catch {
    return undefined;
  }
}
