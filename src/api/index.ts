export * from './annotations.js';
export * from './group.js';
export * from './meta.js';
export * from './types.js';
export * from './service.js';
export * from './names.js';
export * from './bgp-status.js';
