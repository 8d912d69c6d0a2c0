import { describe, expect, it } from 'vitest';
import { parseManifests } from './manifest';
import { formatTable } from './table';

describe('parseManifests', () => {
  it('reads YAML documents, Lists and JSON, naming each resource by document and item', () => {
    const yaml = `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\n---\n---\napiVersion: projectcalico.org/v3\nkind: IPPoolList\nitems:\n- {apiVersion: projectcalico.org/v3, kind: IPPool, metadata: {name: b}}\n`;
    expect(parseManifests(yaml, 'f.yaml').map((r) => [r.where, r.kind, r.name])).toEqual([
      ['f.yaml document 1', 'IPPool', 'a'],
      ['f.yaml document 3 item 1', 'IPPool', 'b'],
    ]);
    const json = '{"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"n"}}';
    expect(parseManifests(json, '-')[0]?.name).toBe('n');
  });

  it.each([
    ['', 'f: no resources found'],
    [
      'kind: IPPool\nmetadata: {name: a}\n',
      'f document 1: apiVersion: must be projectcalico.org/v3, got undefined',
    ],
    ['apiVersion: projectcalico.org/v3\nkind: IPPool\n', 'f document 1: metadata.name: missing'],
    ['apiVersion: projectcalico.org/v3\nmetadata: {name: a}\n', 'f document 1: kind: missing'],
    ['{"kind": ', 'f: not valid JSON'],
    ['- 1\n- [2\n', 'f document 1: not valid YAML'],
  ])('refuses %j', (text, message) => {
    expect(() => parseManifests(text, 'f')).toThrow(message);
  });
});

describe('formatTable', () => {
  it('pads every column but the last to its widest cell plus three spaces', () => {
    expect(
      formatTable(
        ['NAME', 'CIDR'],
        [
          ['pool-long', '10.1.0.0/16'],
          ['p', ''],
        ],
      ),
    ).toBe('NAME        CIDR\npool-long   10.1.0.0/16\np\n');
  });
});
