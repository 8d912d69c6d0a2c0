import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { hostSnapshot, leftoverNamespaces, Topology } from './topology';

/**
 * A fresh node topology for every test, destroyed after it whether it passed or not. Returns an
 * accessor for the current one.
 */
export function useTopology(): () => Topology {
  let current: Topology | undefined;
  beforeEach(async () => {
    current = await Topology.create();
  });
  afterEach(async () => {
    await current?.destroy();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('no topology: called outside a test');
    return current;
  };
}

/**
 * The suite must leave the host as it found it: the same links and routes in the host's own
 * namespace, and no namespace of ours left over.
 */
export function guardHost(): void {
  let before: string[] = [];
  beforeAll(async () => {
    before = await hostSnapshot();
  });
  afterAll(async () => {
    expect(await leftoverNamespaces()).toEqual([]);
    expect(await hostSnapshot()).toEqual(before);
  });
}
