import { describe, expect, it } from 'vitest';
import { containerSysctlArgs, hostSysctls } from './sysctls';

describe('sysctls (calico-behaviour.md §4.1 steps 4, 5, 10)', () => {
  it('host end, IPv4 only: upstream order, proxy_delay and accept_ra only warn', () => {
    expect(hostSysctls('cali1', true, false)).toEqual([
      { key: 'ipv4/conf/cali1/route_localnet', value: '1' },
      { key: 'ipv4/neigh/cali1/proxy_delay', value: '0', optional: true },
      { key: 'ipv4/conf/cali1/proxy_arp', value: '1' },
      { key: 'ipv4/conf/cali1/forwarding', value: '1' },
      { key: 'ipv6/conf/cali1/accept_ra', value: '0', optional: true },
    ]);
  });

  it('host end, IPv6 only', () => {
    expect(hostSysctls('cali1', false, true).map((s) => `${s.key}=${s.value}`)).toEqual([
      'ipv6/conf/cali1/accept_dad=0',
      'ipv6/conf/cali1/disable_ipv6=0',
      'ipv6/conf/cali1/proxy_ndp=1',
      'ipv6/conf/cali1/forwarding=1',
      'ipv6/conf/cali1/accept_ra=0',
    ]);
  });

  it('pod: forwarding off unless allowed, accept_dad off, slash keys for dotted names', () => {
    expect(containerSysctlArgs('eth0.5', true, true, false)).toEqual([
      'net/ipv4/ip_forward=0',
      'net/ipv6/conf/all/disable_ipv6=0',
      'net/ipv6/conf/default/disable_ipv6=0',
      'net/ipv6/conf/lo/disable_ipv6=0',
      'net/ipv6/conf/eth0.5/accept_dad=0',
      'net/ipv6/conf/all/forwarding=0',
    ]);
    expect(containerSysctlArgs('eth0', true, false, true)).toEqual(['net/ipv4/ip_forward=1']);
  });
});
