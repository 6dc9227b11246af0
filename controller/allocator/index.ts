export * from './types.js';
export * from './allocator.js';
export * from './pool-state.js';
export * from './selection.js';
