import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion, requireVersionForVerb } from './versions';

describe('versions', () => {
  it('parses one to three numeric parts like libcni', () => {
    expect(parseVersion('1')).toEqual([1, 0, 0]);
    expect(parseVersion('0.4')).toEqual([0, 4, 0]);
    expect(parseVersion('0.3.1')).toEqual([0, 3, 1]);
    for (const bad of ['', 'abc', '1.2.3.4', '1..2', 'v1.0.0', '1.0.0-rc1']) {
      expect(() => parseVersion(bad)).toThrow('invalid cniVersion');
    }
  });

  it('compares numerically, not as strings', () => {
    expect(compareVersions('0.10.0', '0.4.0')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0', '1')).toBe(0);
    expect(compareVersions('0.3.1', '0.4.0')).toBeLessThan(0);
  });

  it('passes a new-enough version that is also supported, and nothing else', () => {
    expect(requireVersionForVerb('1.0.0', 'CHECK', '0.4.0')).toBe('1.0.0');
    expect(() => requireVersionForVerb('0.3.1', 'CHECK', '0.4.0')).toThrow('does not allow CHECK');
    expect(() => requireVersionForVerb('1.0.5', 'CHECK', '0.4.0')).toThrow(
      'incompatible CNI versions',
    );
  });
});
