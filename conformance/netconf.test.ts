import { describe, expect, it } from 'vitest';
import { canonicalJson, withIpamType } from './netconf';
import { compareVersions, versionUnderTest } from './versions';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops whitespace, like libcni', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });
});

describe('withIpamType', () => {
  it('replaces ipam.type on a copy and keeps the other ipam keys', () => {
    const conf = { name: 'n', ipam: { type: 'host-local', subnet: '10.250.0.0/24' } };
    expect(withIpamType(conf, 'x')).toEqual({
      name: 'n',
      ipam: { type: 'x', subnet: '10.250.0.0/24' },
    });
    expect(conf.ipam.type).toBe('host-local');
  });
});

describe('versions', () => {
  it('orders versions numerically and picks the newest known advertised one', () => {
    expect(compareVersions('0.10.0', '0.4.0')).toBeGreaterThan(0);
    expect(versionUnderTest(['0.3.1', '1.0.0', '0.4.0'])).toBe('1.0.0');
    expect(versionUnderTest(['1.1.0', '9.0.0'])).toBe('1.1.0');
    expect(versionUnderTest([])).toBe('1.0.0');
  });
});
