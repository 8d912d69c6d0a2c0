import { describe, expect, it } from 'vitest';
import { parseIfInet6, parseNetDev } from './proc-net';

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
});
