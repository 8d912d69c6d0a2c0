import { describe, expect, it } from 'vitest';
import { diffState } from './sandbox';

describe('diffState', () => {
  const before = { links: ['lo'], routes: ['10.250.0.0/24 dev eth0'] };

  it('is undefined for equal states', () => {
    expect(diffState(before, { ...before })).toBeUndefined();
  });

  it('names new and vanished links and routes', () => {
    const after = { links: ['eth0', 'lo'], routes: [] };
    expect(diffState(before, after)).toBe('new link eth0, route "10.250.0.0/24 dev eth0" gone');
  });

  it('counts only additions when asked (node netns: earlier pods vanish asynchronously)', () => {
    expect(diffState(before, { links: [], routes: [] }, true)).toBeUndefined();
    expect(diffState(before, { links: ['lo', 'veth1'], routes: [] }, true)).toBe('new link veth1');
  });
});
