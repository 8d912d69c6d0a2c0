import { stringify as toYaml } from 'yaml';
import type { JsonObject } from '../../lib/cni/json-fields';
import { isJsonObject } from '../../lib/cni/json-fields';
import { API_VERSION } from '../../lib/datastore/calico/resource';
import type { Kv } from '../../lib/datastore/kv';
import { Store, type Versioned } from '../../lib/datastore/resources';
import { CliError, type CliIo } from './io';
import type { KindInfo } from './kinds';
import { formatTable } from './table';

// `calicoctl get KIND [NAME] [-o wide|json|yaml]`. Tables by default; json and yaml print the
// resources as stored, with metadata.resourceVersion set to the key's etcd mod_revision (what
// `replace` expects back), one resource for a name, a `<Kind>List` otherwise.

/** The output formats of `get`. */
export type OutputFormat = 'ps' | 'wide' | 'json' | 'yaml';

/** Which resources `get` prints. */
export interface GetRequest {
  kind: KindInfo;
  name?: string | undefined;
  /** The namespace of namespaced kinds; undefined with --all-namespaces. */
  namespace: string | undefined;
  output: OutputFormat;
}

/** Prints the requested resources; an unknown name is an error, an empty list is not. */
export async function getResources(kv: Kv, request: GetRequest, io: CliIo): Promise<void> {
  const { kind, name, output } = request;
  const store = new Store(kv);
  let items: Versioned[];
  let revision: number | undefined;
  if (name !== undefined) {
    const found = await store.find(kind.key(name, request.namespace ?? 'default'));
    if (found === undefined) {
      throw new CliError(`${kind.kind} ${JSON.stringify(name)} does not exist`);
    }
    items = [found];
  } else {
    const listed = await store.list(kind.prefix(request.namespace));
    items = listed.items;
    revision = listed.revision;
  }
  if (output === 'json' || output === 'yaml') {
    const objects = items.map((item) => withRevision(kind, item));
    const document: unknown =
      name !== undefined
        ? objects[0]
        : {
            apiVersion: API_VERSION,
            kind: `${kind.kind}List`,
            metadata: { resourceVersion: String(revision ?? '') },
            items: objects,
          };
    io.out(output === 'json' ? `${JSON.stringify(document, null, 2)}\n` : toYaml(document));
    return;
  }
  const options = {
    wide: output === 'wide',
    allNamespaces: kind.namespaced && request.namespace === undefined,
  };
  io.out(
    formatTable(
      kind.headers(options),
      items.map((item) => kind.row(item.key, item.value, options)),
    ),
  );
}

function withRevision(kind: KindInfo, item: Versioned): JsonObject {
  // Through the codec: a value that is not a valid resource fails here with its key named.
  const object = JSON.parse(kind.canonical(item.key, item.value).stored) as JsonObject;
  const metadata = isJsonObject(object.metadata) ? object.metadata : {};
  object.metadata = { ...metadata, resourceVersion: String(item.modRevision) };
  return object;
}
