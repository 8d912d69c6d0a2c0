import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  calicoBlockAllocations,
  describeAllocations,
  hostLocalAllocations,
  parseHostLocalFile,
} from './allocations';
import { parseCalls } from './fixture-ipam';

describe('host-local store', () => {
  it('reads both file formats', () => {
    expect(parseHostLocalFile('10.0.0.5', 'cid1\r\neth0')).toEqual({
      ip: '10.0.0.5',
      containerId: 'cid1',
      ifname: 'eth0',
    });
    expect(parseHostLocalFile('10.0.0.6', 'cid2')).toEqual({
      ip: '10.0.0.6',
      containerId: 'cid2',
      ifname: undefined,
    });
  });

  it('lists allocations of a network, skipping the lock and last_reserved_ip files', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cnf-hl-'));
    try {
      const dir = join(dataDir, 'net1');
      mkdirSync(dir);
      writeFileSync(join(dir, 'lock'), '');
      writeFileSync(join(dir, 'last_reserved_ip.0'), '10.0.0.5');
      writeFileSync(join(dir, '10.0.0.5'), 'cid1\r\neth0');
      const conf = { name: 'net1', ipam: { type: 'host-local', dataDir } };
      expect(hostLocalAllocations(conf)).toEqual([
        { ip: '10.0.0.5', containerId: 'cid1', ifname: 'eth0' },
      ]);
      expect(hostLocalAllocations({ ...conf, name: 'other' })).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('Calico blocks', () => {
  it('maps allocated ordinals to addresses and handles to container IDs', () => {
    const block = {
      cidr: '10.250.1.0/26',
      affinity: 'host:cnf-node',
      allocations: [null, 0, null, 1, ...Array<null>(60).fill(null)],
      unallocated: [],
      attributes: [{ handle_id: 'net1.cid-a', secondary: {} }, { handle_id: 'other.cid-b' }],
    };
    expect(calicoBlockAllocations(block, 'net1')).toEqual([
      { ip: '10.250.1.1', containerId: 'cid-a', ifname: undefined },
      { ip: '10.250.1.3', containerId: undefined, ifname: undefined },
    ]);
  });

  it('handles IPv6 blocks and ignores values that are not blocks', () => {
    const block = {
      cidr: 'fd00:250::10/128',
      allocations: [0],
      attributes: [{ handle_id: 'n.c' }],
    };
    expect(calicoBlockAllocations(block, 'n')).toEqual([
      { ip: 'fd00:250::10', containerId: 'c', ifname: undefined },
    ]);
    expect(calicoBlockAllocations({ foo: 1 }, 'n')).toEqual([]);
  });

  it('describes allocations for reasons', () => {
    expect(describeAllocations([])).toBe('none');
    expect(describeAllocations([{ ip: '10.0.0.5', containerId: 'c', ifname: 'eth0' }])).toBe(
      '10.0.0.5 (c/eth0)',
    );
  });
});

describe('fixture IPAM log', () => {
  it('reads one call per line', () => {
    const text =
      '{"command":"ADD","env":{"CNI_CONTAINERID":"c1"},"stdin":"{}"}\n' +
      '{"command":"DEL","env":{},"stdin":""}\n';
    expect(parseCalls(text)).toEqual([
      { command: 'ADD', env: { CNI_CONTAINERID: 'c1' }, stdin: '{}' },
      { command: 'DEL', env: {}, stdin: '' },
    ]);
  });
});
