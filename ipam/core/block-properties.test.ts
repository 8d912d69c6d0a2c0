import { describe, expect, it } from 'vitest';
import { assignFromBlock, assignSpecific } from './block-assign';
import { checkBlock } from './block-check';
import { blockAddressCount, ipAtOrdinal } from './block-geometry';
import { freeCount, ordinalsOfHandle } from './block-query';
import { releaseByHandle, releaseOrdinals } from './block-release';
import { blockCidr, newBlock, type BlockState } from './block-state';
import { parseNetwork } from './cidr';
import { AddressInUseError, AddressReservedError } from './errors';
import { deepFreeze, seededRandom, type TestRandom } from './test-support';

// Random assign/release sequences checked against a model of Calico's block: a FIFO queue of free
// ordinals plus an owner per allocated ordinal. Every result must match the model, the block must
// stay consistent, inputs are frozen (any mutation throws), and a released address is reused
// only once every never-used one is taken (§8.4, §12 items 2 and 10).

const BLOCKS = [
  '10.0.0.0/28',
  '10.0.0.0/30',
  '10.0.0.9/32',
  'fd00::40/124',
  'fd00::/122',
  'fd00::7/128',
];
const HANDLES = ['a', 'b', 'c', 'd'];

class Model {
  readonly queue: number[];
  readonly owner = new Map<number, string>();
  readonly everUsed = new Set<number>();

  constructor(
    readonly size: number,
    readonly reserved: ReadonlySet<number>,
  ) {
    this.queue = Array.from({ length: size }, (_, i) => i);
  }

  take(ordinal: number, handle: string): void {
    if (this.owner.has(ordinal)) throw new Error(`ordinal ${ordinal} handed out twice`);
    this.queue.splice(this.queue.indexOf(ordinal), 1);
    this.owner.set(ordinal, handle);
    this.everUsed.add(ordinal);
  }

  free(ordinal: number): void {
    this.owner.delete(ordinal);
    this.queue.push(ordinal);
  }

  freshFree(): Set<number> {
    return new Set(this.queue.filter((o) => !this.everUsed.has(o) && !this.reserved.has(o)));
  }
}

function assignStep(block: BlockState, model: Model, random: TestRandom): BlockState {
  const count = 1 + random.int(3);
  const handleId = random.pick(HANDLES);
  const expected = model.queue.filter((o) => !model.reserved.has(o)).slice(0, count);
  const fresh = model.freshFree();
  const result = assignFromBlock(block, {
    count,
    handleId,
    attributes: { pod: handleId },
    reservedOrdinals: model.reserved,
  });
  expect(result.ordinals).toEqual(expected);
  for (const ordinal of result.ordinals) {
    if (model.everUsed.has(ordinal)) expect(fresh.size, 'reused before a fresh one').toBe(0);
    fresh.delete(ordinal);
    model.take(ordinal, handleId);
  }
  return result.block;
}

function specificStep(block: BlockState, model: Model, random: TestRandom): BlockState {
  const ordinal = random.int(model.size);
  const ip = ipAtOrdinal(blockCidr(block), ordinal);
  const handleId = random.pick(HANDLES);
  const assign = () => assignSpecific(block, ip, { handleId, reservedOrdinals: model.reserved });
  if (model.owner.has(ordinal)) {
    expect(assign).toThrow(AddressInUseError);
    return block;
  }
  if (model.reserved.has(ordinal)) {
    expect(assign).toThrow(AddressReservedError);
    return block;
  }
  const result = assign();
  expect(result.ordinals).toEqual([ordinal]);
  model.take(ordinal, handleId);
  return result.block;
}

function releaseHandleStep(block: BlockState, model: Model, random: TestRandom): BlockState {
  const handleId = random.pick(HANDLES);
  const expected = [...model.owner].filter(([, h]) => h === handleId).map(([o]) => o);
  expected.sort((x, y) => x - y);
  const result = releaseByHandle(block, handleId);
  expect(result.released).toEqual(expected);
  expect(result.releasedByHandle.get(handleId) ?? 0).toBe(expected.length);
  for (const ordinal of expected) model.free(ordinal);
  return result.block;
}

function releaseOrdinalsStep(block: BlockState, model: Model, random: TestRandom): BlockState {
  const asked = Array.from({ length: 1 + random.int(4) }, () => random.int(model.size));
  const unique = [...new Set(asked)];
  const result = releaseOrdinals(block, asked);
  expect(result.released).toEqual(unique.filter((o) => model.owner.has(o)));
  expect(result.notAllocated).toEqual(unique.filter((o) => !model.owner.has(o)));
  for (const ordinal of result.released) model.free(ordinal);
  return result.block;
}

function expectMatchesModel(block: BlockState, model: Model): void {
  const held = (handle: string) =>
    [...model.owner]
      .filter(([, h]) => h === handle)
      .map(([o]) => o)
      .sort((x, y) => x - y);
  // One comparison per step keeps 9 000 steps fast; a mismatch still shows which part differs.
  expect({
    problems: checkBlock(block),
    unallocated: block.unallocated,
    byHandle: HANDLES.map((handle) => ordinalsOfHandle(block, handle)),
    free: freeCount(block, { reservedOrdinals: model.reserved }),
  }).toEqual({
    problems: [],
    unallocated: model.queue,
    byHandle: HANDLES.map(held),
    free: model.queue.filter((o) => !model.reserved.has(o)).length,
  });
}

describe('block allocation properties', () => {
  const steps = [assignStep, assignStep, specificStep, releaseHandleStep, releaseOrdinalsStep];
  it.each(Array.from({ length: 150 }, (_, i) => 0x5eed0000 + i))('seed %i', (seed) => {
    const random = seededRandom(seed);
    const cidr = parseNetwork(random.pick(BLOCKS));
    const size = blockAddressCount(cidr);
    const reserved = new Set(Array.from({ length: random.int(3) }, () => random.int(size)));
    const model = new Model(size, reserved);
    let block = deepFreeze(newBlock(cidr, { affinityNode: 'node-1', sequenceNumber: 1n }));
    for (let step = 0; step < 60; step++) {
      const before = block.sequenceNumber;
      const next = deepFreeze(random.pick(steps)(block, model, random));
      expect(next === block || next.sequenceNumber === before + 1n).toBe(true);
      block = next;
      expectMatchesModel(block, model);
    }
  });
});
