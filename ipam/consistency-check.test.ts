import { describe, expect, it } from 'vitest';
import { checkIpamSnapshot } from './consistency-check';
import { isClean, type ConsistencyReport } from './consistency-report';
import { RawIpamState, rawIp } from './testing/raw-ipam-state';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const OLD = NOW - 60 * 60_000;
const BLOCK = '10.0.0.64/26';

/** node-1 owns BLOCK and runs two healthy pods in it. */
function healthy(): RawIpamState {
  return new RawIpamState()
    .block(BLOCK, { affinity: 'host:node-1' })
    .affinity('node-1', BLOCK)
    .pod({ cidr: BLOCK, ordinal: 0, containerId: 'aaa', node: 'node-1', at: OLD })
    .pod({ cidr: BLOCK, ordinal: 1, containerId: 'bbb', node: 'node-1', at: OLD });
}

function check(state: RawIpamState, options: Parameters<typeof checkIpamSnapshot>[1] = {}) {
  return checkIpamSnapshot(state.snapshot(), { now: NOW, ...options });
}

const kinds = (report: ConsistencyReport) => report.problems.map((p) => p.kind);

describe('checkIpamSnapshot', () => {
  it('finds nothing wrong in a consistent state and counts what it checked', () => {
    const report = check(healthy());
    expect(report.problems).toEqual([]);
    expect(report.leaks).toEqual([]);
    expect(isClean(report)).toBe(true);
    expect(report.checked).toEqual({
      blocks: 1,
      allocations: 2,
      handles: 2,
      affinities: 1,
      endpoints: 2,
    });
    expect(report.revision).toBe(100);
  });

  it('reports a handle whose count differs from its block, naming both numbers', () => {
    const report = check(healthy().handle('net1.aaa', { [BLOCK]: 3 }));
    expect(report.problems).toEqual([
      {
        kind: 'handle-count',
        key: '/calico/ipam/v2/handle/net1.aaa',
        message: `handle net1.aaa counts 3 address(es) in block ${BLOCK}, but the block holds 1 for it`,
      },
    ]);
  });

  it('reports allocations whose handle is missing, and allocations without any handle', () => {
    const state = healthy();
    state.values.delete('/calico/ipam/v2/handle/net1.bbb');
    state.allocate(BLOCK, { ordinal: 9, handle: null, node: 'node-1', at: OLD });
    const report = check(state);
    expect(kinds(report)).toEqual(['missing-handle', 'missing-handle']);
    expect(report.problems.map((p) => p.message)).toEqual([
      `${rawIp(BLOCK, 9)} in block ${BLOCK} is allocated without a handle: no DEL can release it`,
      `block ${BLOCK} holds 1 address(es) for handle net1.bbb, which does not exist`,
    ]);
  });

  it('reports handles that point at missing blocks, at blocks not holding them, or at nothing', () => {
    const report = check(
      healthy()
        .handle('net1.ghost', { '10.0.1.0/26': 1 })
        .handle('net1.empty', {})
        .handle('net1.wrong', { [BLOCK]: 1 }),
    );
    expect(report.problems.map((p) => p.message)).toEqual([
      'handle net1.empty holds no addresses (Calico deletes a handle when its count reaches zero)',
      'handle net1.ghost counts 1 address(es) in block 10.0.1.0/26, which does not exist',
      `handle net1.wrong counts 1 address(es) in block ${BLOCK}, but the block holds 0 for it`,
    ]);
  });

  it('reports a handle that does not count a block holding addresses for it', () => {
    const other = '10.0.0.128/26';
    const state = healthy().block(other, { affinity: null });
    state.allocate(other, { ordinal: 3, handle: 'net1.aaa', node: 'node-1', at: OLD });
    expect(check(state).problems.map((p) => p.message)).toEqual([
      `handle net1.aaa does not count block ${other}, which holds 1 address(es) for it`,
    ]);
  });

  it('reports affinities that do not match their block, both ways', () => {
    const state = healthy()
      .affinity('node-2', BLOCK) // two hosts on one block (calico#6486)
      .affinity('node-3', '10.0.9.0/26', 'pending')
      .block('10.0.5.0/26', { affinity: 'host:node-4' });
    expect(check(state).problems.map((p) => p.message)).toEqual([
      `host node-2 has a confirmed affinity for block ${BLOCK}, but the block's affinity is "host:node-1"`,
      'host node-3 has a pending affinity for block 10.0.9.0/26, which does not exist',
      'block 10.0.5.0/26 has affinity host:node-4, but host node-4 has no affinity for it',
    ]);
  });

  it('reports an address allocated in two overlapping blocks and one used by two endpoints', () => {
    const state = healthy().block('10.0.0.64/27', { affinity: null });
    state.allocate('10.0.0.64/27', { ordinal: 0, handle: 'net1.ccc', node: 'node-2', at: OLD });
    state.handle('net1.ccc', { '10.0.0.64/27': 1 });
    state.endpoint({ node: 'node-2', containerId: 'ccc', ips: [rawIp(BLOCK, 0)] });
    const report = check(state);
    expect(report.problems.map((p) => p.message)).toEqual([
      `10.0.0.64 is allocated 2 times: in block ${BLOCK} to handle net1.aaa, in block 10.0.0.64/27 to handle net1.ccc`,
      '10.0.0.64 is used by two WorkloadEndpoints: node-1-cni-aaa-eth0 and node-2-cni-ccc-eth0',
    ]);
  });

  it('reports an endpoint whose address its block has free', () => {
    const state = healthy().endpoint({ node: 'node-1', containerId: 'ddd', ips: ['10.0.0.80'] });
    expect(check(state).problems).toEqual([
      {
        kind: 'unallocated-endpoint-address',
        key: '/calico/resources/v3/projectcalico.org/workloadendpoints/default/node-1-cni-ddd-eth0',
        message: `WorkloadEndpoint node-1-cni-ddd-eth0 uses 10.0.0.80, which block ${BLOCK} has free: another pod can be given it`,
      },
    ]);
  });

  it('reports block invariants and unreadable values without stopping', () => {
    const state = healthy();
    state.values.set('/calico/ipam/v2/handle/net1.junk', '{"block":');
    const entries = state.entries();
    const [key, value] = entries.find(([k]) => k.includes('/assignment/')) ?? ['', ''];
    const block = JSON.parse(value) as { unallocated: number[] };
    block.unallocated.push(0); // ordinal 0 is allocated and also queued as free
    const snapshot = state.snapshot();
    snapshot.blocks = [
      { key, value: JSON.stringify(block), createRevision: 1, modRevision: 1, version: 1 },
    ];
    const report = checkIpamSnapshot(snapshot, { now: NOW });
    expect(kinds(report)).toEqual(['unreadable', 'block']);
    expect(report.problems[0]?.key).toBe('/calico/ipam/v2/handle/net1.junk');
    expect(report.problems[1]?.message).toBe(
      `block ${BLOCK}: ordinal 0 is in unallocated but allocated`,
    );
  });
});

describe('leaks', () => {
  /** Healthy, plus container ccc's old allocation of network net1 with no endpoint. */
  function leaked(at: number | null = OLD): RawIpamState {
    const state = healthy();
    state.allocate(BLOCK, {
      ordinal: 7,
      handle: 'net1.ccc',
      node: 'node-1',
      ...(at === null ? {} : { at }),
    });
    return state.handle('net1.ccc', { [BLOCK]: 1 });
  }

  it('calls an old allocation of a calico network without endpoint a leak', () => {
    const report = check(leaked());
    expect(report.problems).toEqual([]);
    expect(report.leaks).toEqual([
      {
        ip: rawIp(BLOCK, 7),
        block: BLOCK,
        ordinal: 7,
        handleId: 'net1.ccc',
        node: 'node-1',
        ageMs: 60 * 60_000,
        handleAddresses: 1,
        message: `${rawIp(BLOCK, 7)} (block ${BLOCK}, handle net1.ccc, node node-1, allocated 3600 s ago) is leaked: network net1 is served by calico, and no WorkloadEndpoint uses the address`,
      },
    ]);
    expect(isClean(report)).toBe(false);
  });

  it('gives an ADD in flight the grace period (15 minutes by default)', () => {
    expect(check(leaked(NOW - 14 * 60_000)).leaks).toEqual([]);
    expect(check(leaked(NOW - 14 * 60_000)).inGrace).toBe(1);
    expect(check(leaked(NOW - 16 * 60_000)).leaks).toHaveLength(1);
    expect(check(leaked(NOW - 60_000), { graceMs: 30_000 }).leaks).toHaveLength(1);
    // No timestamp: the age is unknown, so it counts as old.
    expect(check(leaked(null)).leaks[0]?.ageMs).toBeUndefined();
  });

  it('does not call addresses of a network without any calico endpoint leaks, unless named', () => {
    // calico-ipam under another main plugin: handles of network "bridgenet", no endpoints.
    const state = healthy();
    state.allocate(BLOCK, { ordinal: 8, handle: 'bridgenet.eee', node: 'node-1', at: OLD });
    state.handle('bridgenet.eee', { [BLOCK]: 1 });
    const report = check(state);
    expect(report.leaks).toEqual([]);
    expect(report.unverified.map((u) => u.handleId)).toEqual(['bridgenet.eee']);
    expect(isClean(report)).toBe(true);
    expect(check(state, { networks: ['bridgenet'] }).leaks.map((l) => l.ip)).toEqual([
      rawIp(BLOCK, 8),
    ]);
  });

  it('attributes a handle to the longest calico network (network names may hold dots)', () => {
    const state = new RawIpamState().block(BLOCK, { affinity: 'host:n' }).affinity('n', BLOCK);
    state.allocate(BLOCK, { ordinal: 0, handle: 'k8s.pod.net.aaa', node: 'n', at: OLD });
    state.handle('k8s.pod.net.aaa', { [BLOCK]: 1 });
    state.endpoint({ node: 'n', containerId: 'aaa', ips: [rawIp(BLOCK, 0)] });
    state.allocate(BLOCK, { ordinal: 1, handle: 'k8s.pod.net.bbb', node: 'n', at: OLD });
    state.handle('k8s.pod.net.bbb', { [BLOCK]: 1 });
    const report = check(state);
    expect(report.leaks.map((l) => l.message)).toEqual([
      expect.stringContaining('network k8s.pod.net is served by calico') as string,
    ]);
  });

  it('never calls an address an endpoint uses, or a tunnel address, a leak', () => {
    const state = healthy();
    // Held under a stale handle, but in use by endpoint bbb's WEP: in use wins.
    state.allocate(BLOCK, { ordinal: 2, handle: 'net1.zzz', node: 'node-1', at: OLD });
    state.handle('net1.zzz', { [BLOCK]: 1 });
    state.endpoint({ node: 'node-1', containerId: 'bbb', ips: [rawIp(BLOCK, 1), rawIp(BLOCK, 2)] });
    state.allocate(BLOCK, {
      ordinal: 3,
      handle: 'ipip-tunnel-addr-node-1',
      node: 'node-1',
      at: OLD,
      secondary: { type: 'ipipTunnelAddress' },
    });
    state.handle('ipip-tunnel-addr-node-1', { [BLOCK]: 1 });
    const report = check(state);
    expect(report.leaks).toEqual([]);
    expect(report.nonWorkload).toBe(1);
  });
});
