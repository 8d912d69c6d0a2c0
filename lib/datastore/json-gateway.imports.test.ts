import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The JSON gateway is the plugins' hot path: a fresh process must load as little as possible. This
// walks its import graph (value imports; `import type` is erased) and fails on anything beyond
// node:net and node:tls, such as node:http, etcd3 or gRPC creeping in through a shared helper.

const HERE = dirname(fileURLToPath(import.meta.url));
const IMPORT = /^\s*import\s+(?!type\b)[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/gm;

function externalImports(entry: string): { files: string[]; external: Set<string> } {
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? '';
      if (specifier.startsWith('.')) visit(`${resolve(dirname(file), specifier)}.ts`);
      else external.add(specifier);
    }
  };
  visit(entry);
  return { files: [...seen].map((file) => file.slice(HERE.length + 1)), external };
}

describe('json-gateway.ts import graph', () => {
  it('reaches only node:net and node:tls outside this repository', () => {
    const { external } = externalImports(join(HERE, 'json-gateway.ts'));
    // node:tls is imported only for https endpoints.
    expect([...external].sort()).toEqual(['node:net', 'node:tls']);
  });

  it('does not reach the gRPC transport', () => {
    const { files } = externalImports(join(HERE, 'json-gateway.ts'));
    expect(files).toContain('gateway-http.ts');
    expect(files).toContain('http1.ts');
    expect(files).not.toContain('grpc.ts');
    expect(files).not.toContain('open-kv.ts');
  });

  it('sees through to etcd3 from the gRPC transport (the walk itself works)', () => {
    expect(externalImports(join(HERE, 'open-kv.ts')).external).toContain('etcd3');
  });
});
