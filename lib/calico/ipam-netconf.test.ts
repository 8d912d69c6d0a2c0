import { describe, expect, it } from 'vitest';
import { parseIpamNetConf } from './ipam-netconf';

describe('parseIpamNetConf', () => {
  it('defaults to IPv4 only, automatic pools and the upstream lock file', () => {
    expect(parseIpamNetConf({ ipam: { type: 'calico-ipam' } })).toEqual({
      assignIpv4: true,
      assignIpv6: false,
      ipv4Pools: [],
      ipv6Pools: [],
      lockFile: '/var/run/calico/ipam.lock',
    });
  });

  it.each([
    [{ assign_ipv4: 'false' }, false, false],
    [{ assign_ipv4: 'FALSE' }, true, false],
    [{ assign_ipv4: 'no' }, true, false],
    [{ assign_ipv6: 'true' }, true, true],
    [{ assign_ipv6: 'True' }, true, false],
    [{ assign_ipv4: false, assign_ipv6: true }, false, true],
  ])('reads %j as v4=%s v6=%s, exact strings only', (ipam, v4, v6) => {
    const conf = parseIpamNetConf({ ipam });
    expect([conf.assignIpv4, conf.assignIpv6]).toEqual([v4, v6]);
  });

  it('keeps requested pools in the order given', () => {
    const conf = parseIpamNetConf({
      ipam: { ipv4_pools: ['b', '10.1.0.0/16', 'a'] },
      ipam_lock_file: '/run/x.lock',
    });
    expect(conf.ipv4Pools).toEqual(['b', '10.1.0.0/16', 'a']);
    expect(conf.lockFile).toBe('/run/x.lock');
  });

  it('rejects wrong types with code 7 naming the key', () => {
    expect(() => parseIpamNetConf({ ipam: { ipv4_pools: 'p' } })).toThrow(
      'ipam.ipv4_pools: must be a list',
    );
    expect(() => parseIpamNetConf({ ipam: { assign_ipv6: 1 } })).toThrow(
      'ipam.assign_ipv6: must be a string, got 1',
    );
  });
});
