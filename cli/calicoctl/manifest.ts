import { parseAllDocuments } from 'yaml';
import { describe, isJsonObject, type JsonObject } from '../../lib/cni/json-fields';
import { API_VERSION } from '../../lib/datastore/calico/resource';
import { CliError } from './io';

// Manifests as calicoctl reads them: YAML (several documents separated by `---`) or JSON, each
// document one resource or a `…List` with `items`. Only the envelope is checked here; each kind's
// codec checks the spec.

/** One resource of a manifest, with where it came from for error messages. */
export interface ManifestResource {
  /** e.g. `pools.yaml document 2`, `pools.yaml document 1 item 3`. */
  where: string;
  kind: string;
  name: string;
  body: JsonObject;
}

/** The resources of a manifest file's text; `source` names the file (`-` for stdin). */
export function parseManifests(text: string, source: string): ManifestResource[] {
  const documents = /^\s*[[{]/.test(text) ? [parseJson(text, source)] : parseYamlDocs(text, source);
  const resources: ManifestResource[] = [];
  documents.forEach((doc, i) => {
    const where = `${source} document ${i + 1}`;
    if (doc === null || doc === undefined) return;
    const items = Array.isArray(doc) ? doc : listItems(doc, where);
    if (items === undefined) {
      resources.push(envelope(doc, where));
      return;
    }
    items.forEach((item, j) => resources.push(envelope(item, `${where} item ${j + 1}`)));
  });
  if (resources.length === 0) throw new CliError(`${source}: no resources found`);
  return resources;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${source}: not valid JSON: ${err instanceof Error ? err.message : ''}`);
  }
}

function parseYamlDocs(text: string, source: string): unknown[] {
  return parseAllDocuments(text).map((doc, i) => {
    const [first] = doc.errors;
    if (first !== undefined) {
      throw new CliError(`${source} document ${i + 1}: not valid YAML: ${first.message}`);
    }
    return doc.toJS() as unknown;
  });
}

function listItems(doc: unknown, where: string): unknown[] | undefined {
  if (!isJsonObject(doc) || typeof doc.kind !== 'string' || !doc.kind.endsWith('List')) {
    return undefined;
  }
  if (!Array.isArray(doc.items)) throw new CliError(`${where}: items: a ${doc.kind} needs a list`);
  return doc.items as unknown[];
}

function envelope(doc: unknown, where: string): ManifestResource {
  if (!isJsonObject(doc)) throw new CliError(`${where}: must be an object, got ${describe(doc)}`);
  if (doc.apiVersion !== API_VERSION) {
    throw new CliError(
      `${where}: apiVersion: must be ${API_VERSION}, got ${describe(doc.apiVersion)}`,
    );
  }
  if (typeof doc.kind !== 'string' || doc.kind === '') {
    throw new CliError(`${where}: kind: missing`);
  }
  const metadata = isJsonObject(doc.metadata) ? doc.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') {
    throw new CliError(`${where}: metadata.name: missing`);
  }
  return { where, kind: doc.kind, name, body: doc };
}
