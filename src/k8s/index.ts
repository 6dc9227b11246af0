export * from './client.js';
export * from './resources.js';
export * from './informer.js';
export * from './queue.js';
export * from './status.js';
export * from './events.js';
export * from './leader.js';
export * from './backoff.js';
