// The public surface of ipam/core for the allocator and the CLI: pure values and functions only.

export * from './allocation-attributes';
export * from './block-assign';
export * from './block-check';
export * from './block-geometry';
export * from './block-query';
export * from './block-release';
export * from './block-state';
export * from './block-walk';
export * from './cidr';
export * from './errors';
export * from './fnv';
export * from './handle';
export * from './ip-address';
export * from './node-selector';
export * from './reservations';
export type { SelectorNode } from './selector-parser';
export { MAX_SELECTOR_DEPTH, MAX_SELECTOR_LENGTH } from './selector-parser';
