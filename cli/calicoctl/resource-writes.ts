import { randomUUID } from 'node:crypto';
import { isJsonObject } from '../../lib/cni/json-fields';
import { isDatastoreError } from '../../lib/datastore/errors';
import type { Kv } from '../../lib/datastore/kv';
import { Store } from '../../lib/datastore/resources';
import type { ObjectMeta } from '../../lib/datastore/calico/resource';
import { CliError, type CliIo } from './io';
import { kindByName, type KindInfo } from './kinds';
import type { ManifestResource } from './manifest';
import { checkPool } from './pool-rules';

// create | apply | replace | delete -f: Calico's semantics over its etcd storage (§7.2): create
// only when absent, replace only what exists and only at the revision read (or the manifest's
// resourceVersion), apply = create or replace. Resources are written in manifest order; the first
// failure stops the run, as calicoctl does, and says how many were written before it.

/** A manifest verb. */
export type WriteVerb = 'create' | 'apply' | 'replace' | 'delete';

const PAST: Record<WriteVerb, string> = {
  create: 'created',
  apply: 'applied',
  replace: 'replaced',
  delete: 'deleted',
};

/** Kubernetes' DNS-1123 subdomain: what Calico accepts as a resource name. */
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Applies `verb` to each resource in order; prints calicoctl's summary line. */
export async function writeResources(
  kv: Kv,
  resources: readonly ManifestResource[],
  options: { verb: WriteVerb; io: CliIo },
): Promise<void> {
  const { verb, io } = options;
  const store = new Store(kv);
  let done = 0;
  try {
    for (const resource of resources) {
      await writeOne(store, resource, verb);
      done++;
    }
  } catch (err) {
    if (done > 0) {
      io.err(
        `Partial success: ${PAST[verb]} the first ${done} out of ${resources.length} resources\n`,
      );
    }
    throw err;
  }
  const kinds = new Set(resources.map((r) => kindByName(r.kind).kind));
  const [only] = kinds;
  const what = kinds.size === 1 && only !== undefined ? `'${only}' resource(s)` : 'resource(s)';
  io.out(`Successfully ${PAST[verb]} ${resources.length} ${what}\n`);
}

/** Deletes one resource named on the command line (`calicoctl delete ippool NAME`). */
export async function deleteByName(
  kv: Kv,
  target: { kind: KindInfo; name: string; namespace: string; io: CliIo },
): Promise<void> {
  const { kind, name, namespace, io } = target;
  if (!kind.writable) throw notWritable(kind, 'delete');
  await removeKey(new Store(kv), { kind, key: kind.key(name, namespace), name });
  io.out(`Successfully deleted 1 '${kind.kind}' resource(s)\n`);
}

async function writeOne(store: Store, resource: ManifestResource, verb: WriteVerb): Promise<void> {
  const kind = kindByName(resource.kind);
  const { where, name, body } = resource;
  if (!kind.writable) throw notWritable(kind, verb);
  if (kind.kind !== resource.kind) {
    throw new CliError(
      `${where}: kind: must be ${kind.kind}, got ${JSON.stringify(resource.kind)}`,
    );
  }
  checkName(`${where}: metadata.name`, name);
  const metadata = isJsonObject(body.metadata) ? body.metadata : {};
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
  const key = kind.key(name, namespace);
  if (verb === 'delete') {
    await removeKey(store, { kind, key, name });
    return;
  }
  const text = JSON.stringify(body);
  // Validates every field before anything is read or written.
  kind.canonical(where, text);
  const existing = await store.find(key);
  if (verb === 'create' && existing !== undefined) {
    throw new CliError(`${kind.kind} ${JSON.stringify(name)} already exists (${where})`);
  }
  if (verb === 'replace' && existing === undefined) {
    throw new CliError(`${kind.kind} ${JSON.stringify(name)} does not exist (${where})`);
  }
  if (kind.kind === 'IPPool') await checkPool(store.kv, { where, text });
  if (existing === undefined) {
    const meta: Partial<ObjectMeta> = {
      uid: stringOr(metadata.uid, randomUUID()),
      creationTimestamp: stringOr(metadata.creationTimestamp, nowRfc3339()),
    };
    try {
      await store.create(key, kind.canonical(where, text, { meta, manifest: true }).stored);
    } catch (err) {
      if (isDatastoreError(err, 'AlreadyExists')) {
        throw new CliError(`${kind.kind} ${JSON.stringify(name)} already exists (${where})`);
      }
      throw err;
    }
    return;
  }
  const current = kind.canonical(key, existing.value).metadata;
  const meta: Partial<ObjectMeta> = {};
  if (metadata.uid === undefined && current.uid !== undefined) meta.uid = current.uid;
  if (metadata.creationTimestamp === undefined && current.creationTimestamp !== undefined) {
    meta.creationTimestamp = current.creationTimestamp;
  }
  const expected = expectedRevision(metadata.resourceVersion, where) ?? existing.modRevision;
  try {
    await store.update(key, kind.canonical(where, text, { meta, manifest: true }).stored, {
      modRevision: expected,
    });
  } catch (err) {
    if (isDatastoreError(err, 'Conflict')) {
      throw new CliError(
        `${kind.kind} ${JSON.stringify(name)} was modified since resourceVersion ${expected}: get it again and retry (${where})`,
      );
    }
    throw err;
  }
}

async function removeKey(
  store: Store,
  target: { kind: KindInfo; key: string; name: string },
): Promise<void> {
  try {
    await store.delete(target.key);
  } catch (err) {
    if (isDatastoreError(err, 'NotFound')) {
      throw new CliError(`${target.kind.kind} ${JSON.stringify(target.name)} does not exist`);
    }
    throw err;
  }
}

function notWritable(kind: KindInfo, verb: string): CliError {
  return new CliError(
    `${kind.kind} resources are written by the calico CNI plugin; calicoctl cannot ${verb} them`,
  );
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

function expectedRevision(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const revision = Number(value);
  if (!Number.isSafeInteger(revision) || revision <= 0) {
    throw new CliError(
      `${where}: metadata.resourceVersion: ${JSON.stringify(value)} is not a revision`,
    );
  }
  return revision;
}

/** Refuses a name Calico would refuse; `where` names the field or argument. */
export function checkName(where: string, name: string): void {
  if (name.length > 253 || !NAME.test(name)) {
    throw new CliError(
      `${where}: ${JSON.stringify(name)} is not a valid name (lower-case letters, digits, "-" and ".", at most 253)`,
    );
  }
}

/** Now as Kubernetes writes creationTimestamp: RFC 3339 in UTC, whole seconds. */
export function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
