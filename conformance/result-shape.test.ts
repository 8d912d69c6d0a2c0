import { describe, expect, it } from 'vitest';
import { mergeProblems, firstPluginResult } from './checks/chaining';
import {
  abbreviatedProblems,
  hasRoute,
  interfaceProblems,
  ipFormatProblems,
  ipIndexProblems,
  iprouteDst,
  isMac,
  newFieldProblems,
  routeFormatProblems,
  versionShapeProblems,
} from './result-shape';

const NETNS = '/var/run/netns/pod1';

/** A ptp-like result at `version`. */
function result(version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const legacy = version.startsWith('0.');
  return {
    cniVersion: version,
    interfaces: [
      { name: 'veth1', mac: 'aa:bb:cc:dd:ee:01' },
      { name: 'eth0', mac: 'aa:bb:cc:dd:ee:02', sandbox: NETNS },
    ],
    ips: [
      {
        ...(legacy ? { version: '4' } : {}),
        address: '10.0.0.5/24',
        gateway: '10.0.0.1',
        interface: 1,
      },
    ],
    routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }],
    dns: {},
    ...extra,
  };
}

describe('result judgements', () => {
  it('accept a well-formed result at 0.4.0 and 1.0.0', () => {
    for (const v of ['0.4.0', '1.0.0']) {
      const r = result(v);
      expect(interfaceProblems(r, 'eth0', NETNS)).toEqual([]);
      expect(ipIndexProblems(r, 'eth0', NETNS)).toEqual([]);
      expect(ipFormatProblems(r)).toEqual([]);
      expect(versionShapeProblems(r, v)).toEqual([]);
      expect(routeFormatProblems(r)).toEqual([]);
      expect(newFieldProblems(r, v)).toEqual([]);
    }
  });

  it('want sandbox = CNI_NETNS verbatim on the container interface only', () => {
    const r = result('1.0.0');
    expect(interfaceProblems(r, 'eth0', '/run/netns/pod1')).toHaveLength(1);
    expect(interfaceProblems(r, 'eth1', NETNS)).toEqual(['no interface named eth1 in the result']);
  });

  it('catch an ip index that is out of range or on the host veth', () => {
    const r = result('1.0.0', { ips: [{ address: '10.0.0.5/24', interface: 2 }] });
    expect(ipIndexProblems(r, 'eth0', NETNS)[0]).toContain('2 interfaces');
    const host = result('1.0.0', { ips: [{ address: '10.0.0.5/24', interface: 0 }] });
    expect(ipIndexProblems(host, 'eth0', NETNS)[0]).toContain('not eth0');
    const none = result('1.0.0', { ips: [{ address: '10.0.0.5/24' }] });
    expect(ipIndexProblems(none, 'eth0', NETNS)).toEqual([]);
  });

  it('catch a bare address and a gateway of the other family', () => {
    expect(ipFormatProblems(result('1.0.0', { ips: [{ address: '10.0.0.5' }] }))).toHaveLength(1);
    const mixed = result('1.0.0', { ips: [{ address: '10.0.0.5/24', gateway: 'fd00::1' }] });
    expect(ipFormatProblems(mixed)[0]).toContain('family');
  });

  it('want ips[].version matching the address below 1.0.0 and absent from 1.0.0', () => {
    const wrong = result('0.3.1', { ips: [{ version: '6', address: '10.0.0.5/24' }] });
    expect(versionShapeProblems(wrong, '0.3.1')[0]).toContain('want "4"');
    const kept = result('1.0.0', { ips: [{ version: '4', address: '10.0.0.5/24' }] });
    expect(versionShapeProblems(kept, '1.0.0')).toEqual(['ips[] carries version "4"']);
    expect(versionShapeProblems(result('0.4.0'), '0.3.1')).toEqual(['cniVersion "0.4.0"']);
  });

  it('flag 1.1.0 fields below 1.1.0 only', () => {
    const r = result('1.0.0', { routes: [{ dst: '0.0.0.0/0', scope: 0 }] });
    expect(newFieldProblems(r, '1.0.0')).toEqual(['routes[].scope at 1.0.0']);
    expect(newFieldProblems(r, '1.1.0')).toEqual([]);
  });

  it('want an IPAM result without interfaces', () => {
    expect(abbreviatedProblems({ ips: [{ address: '10.0.0.5/24' }], routes: [] })).toEqual([]);
    expect(abbreviatedProblems(result('1.0.0'))).toEqual([
      'result has "interfaces"',
      'ips[] "10.0.0.5/24" has "interface"',
    ]);
  });

  it('know MACs', () => {
    expect(isMac('aa:bb:cc:dd:ee:ff')).toBe(true);
    expect(isMac('aabb.ccdd.eeff')).toBe(false);
  });
});

describe('route matching against ip -j', () => {
  it('writes destinations as iproute2 does', () => {
    expect(iprouteDst('0.0.0.0/0')).toBe('default');
    expect(iprouteDst('::/0')).toBe('default');
    expect(iprouteDst('10.0.0.5/32')).toBe('10.0.0.5');
    expect(iprouteDst('fd00:0:0::5/128')).toBe('fd00::5');
    expect(iprouteDst('10.0.0.0/24')).toBe('10.0.0.0/24');
  });

  it('matches dst, device and gateway', () => {
    const routes = [
      {
        dst: 'default',
        dev: 'eth0',
        gateway: '169.254.1.1',
        scope: undefined,
        type: undefined,
        table: undefined,
      },
    ];
    expect(hasRoute(routes, { dst: '0.0.0.0/0', dev: 'eth0' })).toBe(true);
    expect(hasRoute(routes, { dst: '0.0.0.0/0', gw: '169.254.1.1', dev: 'eth0' })).toBe(true);
    expect(hasRoute(routes, { dst: '0.0.0.0/0', gw: '10.0.0.1', dev: 'eth0' })).toBe(false);
    expect(hasRoute(routes, { dst: '0.0.0.0/0', dev: 'eth1' })).toBe(false);
  });
});

describe('prevResult merging (E58)', () => {
  it('accepts a result that kept the first plugin and appended its own', () => {
    const prev = firstPluginResult('1.0.0', NETNS);
    const merged = {
      interfaces: [...(prev.interfaces as object[]), { name: 'eth0', sandbox: NETNS }],
      ips: [...(prev.ips as object[]), { address: '10.0.0.5/32', interface: 1 }],
    };
    expect(mergeProblems(merged, prev)).toEqual([]);
  });

  it('names what a result dropped or moved', () => {
    const prev = firstPluginResult('1.0.0', NETNS);
    expect(mergeProblems(result('1.0.0'), prev)).toEqual([
      'prevResult interface cnf-prev0 dropped',
      'prevResult address 10.99.0.5/24 dropped',
    ]);
    const moved = {
      interfaces: [{ name: 'eth0' }, ...(prev.interfaces as object[])],
      ips: [{ address: '10.99.0.5/24', interface: 0 }],
    };
    expect(mergeProblems(moved, prev)).toEqual([
      '10.99.0.5/24 moved from interface cnf-prev0 to eth0',
    ]);
  });

  it('shapes the first result by version', () => {
    expect(firstPluginResult('0.3.1', NETNS).ips).toEqual([
      { version: '4', address: '10.99.0.5/24', interface: 0 },
    ]);
    expect(firstPluginResult(undefined, NETNS)).not.toHaveProperty('cniVersion');
  });
});
