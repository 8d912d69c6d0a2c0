import { describe, expect, it } from 'vitest';
import { parseHostRoutes, parseIfInet6, parseNetDev } from './proc-net';

describe('/proc/self/net readers', () => {
  it('lists interface names from net/dev, long names included', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets',
      '    lo:       0       0    0    0    0     0          0         0        0       0',
      'calitest0123456:     700       8    0    0    0     0          0         0      726',
      '  eth0.5:       0       0    0    0    0     0          0         0        0       0',
      '',
    ].join('\n');
    expect(parseNetDev(text)).toEqual(['lo', 'calitest0123456', 'eth0.5']);
  });

  it('reads if_inet6 with flags', () => {
    const text =
      'fe80000000000000eceeeefffeeeeeee 03 40 20 c0 calitest\n00000000000000000000000000000001 01 80 10 80       lo\n';
    expect(parseIfInet6(text)).toEqual([
      { hex: 'fe80000000000000eceeeefffeeeeeee', ifname: 'calitest', flags: 0xc0 },
      { hex: '00000000000000000000000000000001', ifname: 'lo', flags: 0x80 },
    ]);
  });

  it('reads the /32 routes of pod veths from net/route, bytes reversed on little-endian', () => {
    const text = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT   ',
      'eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0   ',
      'calic0\tC1E0010A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0   ',
      'cali1234567\t0500010A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0   ',
      'cali9\t0000010A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0   ',
      'veth1\t0900010A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0   ',
      '',
    ].join('\n');
    expect(parseHostRoutes(text, { prefix: 'cali', littleEndian: true })).toEqual([
      '10.1.224.193',
      '10.1.0.5',
    ]);
    expect(parseHostRoutes(text, { prefix: 'cali', littleEndian: false })).toEqual([
      '193.224.1.10',
      '5.0.1.10',
    ]);
    // A bounded read may end inside a line: that line is not a route.
    const cut = text.slice(0, text.indexOf('cali1234567') + 20);
    expect(parseHostRoutes(cut, { prefix: 'cali', littleEndian: true })).toEqual(['10.1.224.193']);
  });
});
