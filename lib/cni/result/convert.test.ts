import { describe, expect, it } from 'vitest';
import { CniError } from '../errors';
import { SUPPORTED_VERSIONS, type SpecVersion } from '../versions';
import { decodeResult } from './decode';
import { encodeResult } from './encode';
import { resultFormat } from './format';
import type { Result } from './types';

// A dual-stack result with every field of 1.1.0 set, and a second IPv4 address that only the
// list-based formats can carry.
const dualStack: Result = {
  interfaces: [
    { name: 'cali12345678901', mac: 'ee:ee:ee:ee:ee:ee', mtu: 1450 },
    {
      name: 'eth0',
      mac: '0a:58:0a:01:00:05',
      mtu: 1450,
      sandbox: '/var/run/netns/pod1',
      socketPath: '/run/vhost.sock',
      pciID: '0000:00:1f.6',
    },
  ],
  ips: [
    { address: '10.1.0.5/32', gateway: '169.254.1.1', interface: 1 },
    { address: 'fd00:10::5/128', gateway: 'fe80::ecee:eeff:feee:eeee', interface: 1 },
    { address: '10.1.0.9/32', interface: 1 },
  ],
  routes: [
    {
      dst: '0.0.0.0/0',
      gw: '169.254.1.1',
      mtu: 1400,
      advmss: 1360,
      priority: 10,
      table: 100,
      scope: 0,
    },
    { dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee', scope: 0 },
  ],
  dns: {
    nameservers: ['10.96.0.10'],
    domain: 'cluster.local',
    search: ['svc.cluster.local'],
    options: ['ndots:5'],
  },
};

const isLegacy = (v: SpecVersion) => resultFormat(v) === 'legacy';

/** Converts the way a chain does: read in one version, write in another. */
function convert(from: SpecVersion, to: SpecVersion): Record<string, unknown> {
  const wire = JSON.parse(JSON.stringify(encodeResult(dualStack, from))) as unknown;
  return encodeResult(decodeResult(wire, from, { source: 'result' }), to);
}

describe('result conversion between every ordered pair of versions', () => {
  const pairs = SUPPORTED_VERSIONS.flatMap((from) =>
    SUPPORTED_VERSIONS.map((to) => [from, to] as const),
  );

  it.each(pairs)('%s → %s keeps what both versions can carry', (from, to) => {
    const out = convert(from, to);
    expect(out.cniVersion).toBe(to);
    expect(out.dns).toEqual(dualStack.dns);

    if (isLegacy(to)) {
      expect(Object.keys(out).sort()).toEqual(['cniVersion', 'dns', 'ip4', 'ip6']);
      expect(out.ip4).toEqual({
        ip: '10.1.0.5/32',
        gateway: '169.254.1.1',
        routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
      });
      expect(out.ip6).toEqual({
        ip: 'fd00:10::5/128',
        gateway: 'fe80::ecee:eeff:feee:eeee',
        routes: [{ dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' }],
      });
      return;
    }

    const versioned = resultFormat(to) === 'versioned-ips';
    const bothFull = from === '1.1.0' && to === '1.1.0';
    const ips = out.ips as Record<string, unknown>[];
    // 0.1.0/0.2.0 carry one address per family and no interfaces.
    const expectedIps = isLegacy(from) ? dualStack.ips.slice(0, 2) : dualStack.ips;
    expect(ips.map((ip) => ip.address)).toEqual(expectedIps.map((ip) => ip.address));
    expect(ips.map((ip) => ip.gateway)).toEqual(expectedIps.map((ip) => ip.gateway));
    expect(ips.map((ip) => ip.version)).toEqual(
      expectedIps.map((ip) => (versioned ? (ip.address.includes(':') ? '6' : '4') : undefined)),
    );
    expect(ips.map((ip) => ip.interface)).toEqual(
      expectedIps.map(() => (isLegacy(from) ? undefined : 1)),
    );

    if (isLegacy(from)) {
      expect(out).not.toHaveProperty('interfaces');
    } else {
      const interfaces = out.interfaces as Record<string, unknown>[];
      expect(interfaces.map((i) => [i.name, i.mac, i.sandbox])).toEqual([
        ['cali12345678901', 'ee:ee:ee:ee:ee:ee', undefined],
        ['eth0', '0a:58:0a:01:00:05', '/var/run/netns/pod1'],
      ]);
      for (const i of interfaces) {
        expect(i.mtu).toBe(bothFull ? 1450 : undefined);
      }
      expect(interfaces[1]?.socketPath).toBe(bothFull ? '/run/vhost.sock' : undefined);
      expect(interfaces[1]?.pciID).toBe(bothFull ? '0000:00:1f.6' : undefined);
    }

    const routes = out.routes as Record<string, unknown>[];
    expect(routes.map((r) => [r.dst, r.gw])).toEqual([
      ['0.0.0.0/0', '169.254.1.1'],
      ['::/0', 'fe80::ecee:eeff:feee:eeee'],
    ]);
    expect(routes[0]).toEqual(
      bothFull
        ? {
            dst: '0.0.0.0/0',
            gw: '169.254.1.1',
            mtu: 1400,
            advmss: 1360,
            priority: 10,
            table: 100,
            scope: 0,
          }
        : { dst: '0.0.0.0/0', gw: '169.254.1.1' },
    );
  });
});

describe('decoding results as runtimes and delegates print them', () => {
  it('reads the 0.3.1 example of the contract', () => {
    const wire = {
      cniVersion: '0.3.1',
      interfaces: [
        { name: 'vethab12cd34' },
        { name: 'eth0', mac: '0a:58:0a:00:00:05', sandbox: '/var/run/netns/ns1' },
      ],
      ips: [{ version: '4', address: '10.0.0.5/24', gateway: '10.0.0.1', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: {},
    };
    expect(encodeResult(decodeResult(wire, '0.3.1', { source: 'r' }), '1.0.0')).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'vethab12cd34' },
        { name: 'eth0', mac: '0a:58:0a:00:00:05', sandbox: '/var/run/netns/ns1' },
      ],
      ips: [{ address: '10.0.0.5/24', gateway: '10.0.0.1', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: {},
    });
  });

  it('reads an IPAM result without interfaces and writes it without an interfaces key', () => {
    const wire = { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.1.0.64/26' }], dns: {} };
    const out = encodeResult(decodeResult(wire, '0.4.0', { source: 'r' }), '0.4.0');
    expect(out).toEqual(wire);
  });

  it('ignores unknown keys and 1.1.0 fields in an older shape', () => {
    const wire = {
      ips: [{ address: '10.0.0.5/24', extra: true }],
      routes: [{ dst: '10.2.0.0/16', scope: 253 }],
      surprise: 1,
    };
    const result = decodeResult(wire, '1.0.0', { source: 'r' });
    expect(result.routes).toEqual([{ dst: '10.2.0.0/16' }]);
    expect(result.ips).toEqual([{ address: '10.0.0.5/24' }]);
  });

  it('accepts libcni float-formatted integers', () => {
    const wire = {
      interfaces: [{ name: 'eth0', mtu: 1500.0 }],
      ips: [{ address: '10.0.0.5/24', interface: 0.0 }],
    };
    expect(decodeResult(wire, '1.1.0', { source: 'r' }).interfaces[0]?.mtu).toBe(1500);
  });

  it.each([
    [
      { ips: [{ address: '10.0.0.5' }] },
      '1.0.0',
      'r.ips[0].address: "10.0.0.5" is not an address in CIDR form',
    ],
    [{ ips: [{ address: '10.0.0.5/33' }] }, '1.0.0', 'r.ips[0].address'],
    [
      { ips: [{ address: '10.0.0.5/24', gateway: 'fe80::1' }] },
      '1.0.0',
      'r.ips[0].gateway: "fe80::1" is not an IPv4 address',
    ],
    [
      { ips: [{ address: '10.0.0.5/24', interface: 1 }] },
      '1.0.0',
      'index 1 is outside interfaces (0 listed)',
    ],
    [
      { ips: [{ version: '6', address: '10.0.0.5/24' }] },
      '0.3.1',
      'r.ips[0].version: "6" does not match address 10.0.0.5/24',
    ],
    [{ ip4: { ip: 'fd00::1/64' } }, '0.2.0', 'r.ip4.ip: fd00::1/64 is not an IPv4 address'],
    [
      { routes: [{ dst: '10.0.0.0/8', gw: 7 }] },
      '0.4.0',
      'r.routes[0].gw: must be a string, got 7',
    ],
    [[], '1.0.0', 'r: must be an object, got a list'],
  ] as const)('rejects %j in %s naming the field', (wire, version, message) => {
    const decode = () => decodeResult(wire, version, { source: 'r', code: 7 });
    expect(decode).toThrow(CniError);
    expect(decode).toThrow(message);
    try {
      decode();
    } catch (err) {
      expect((err as CniError).code).toBe(7);
    }
  });

  it('refuses to write a 0.2.0 result without any address', () => {
    expect(() => encodeResult({ interfaces: [], ips: [], routes: [], dns: {} }, '0.2.0')).toThrow(
      'without an IP address',
    );
  });
});
