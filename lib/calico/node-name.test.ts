import { describe, expect, it } from 'vitest';
import { determineNodeName } from './node-name';

const files = (map: Record<string, string>) => (path: string) => map[path];

describe('determineNodeName', () => {
  it('prefers nodename, then the file, then hostname, then the OS hostname', () => {
    const io = {
      readFile: files({ '/var/lib/calico/nodename': 'from-file\n' }),
      hostname: () => 'OS-Host ',
    };
    expect(determineNodeName({ nodename: 'node-1', hostname: 'h' }, io)).toEqual({
      name: 'node-1',
      source: 'nodename',
    });
    expect(determineNodeName({ hostname: 'h' }, io)).toEqual({
      name: 'from-file',
      source: 'nodename_file',
    });
    const noFile = { readFile: files({}), hostname: () => 'OS-Host ' };
    expect(determineNodeName({ hostname: 'legacy' }, noFile)).toEqual({
      name: 'legacy',
      source: 'hostname',
    });
    expect(determineNodeName({}, noFile)).toEqual({ name: 'os-host', source: 'os hostname' });
  });

  it('reads nodename_file from the path the netconf gives', () => {
    const io = { readFile: files({ '/etc/calico/name': 'custom' }), hostname: () => 'x' };
    expect(determineNodeName({ nodename_file: '/etc/calico/name' }, io).name).toBe('custom');
  });

  it.each(['../etc', 'a/b', 'node 1', '-node', 'node-', 'a'.repeat(254)])(
    'refuses %j, which would end up in etcd keys',
    (name) => {
      expect(() => determineNodeName({ nodename: name })).toThrow('invalid node name');
    },
  );

  it('names the key of a value of the wrong type', () => {
    expect(() => determineNodeName({ nodename: 3 })).toThrow(
      'invalid network config: nodename: must be a string, got 3',
    );
  });
});
