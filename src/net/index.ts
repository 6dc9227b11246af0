export * from './ip.js';
export * from './cidr.js';
export * from './interval-set.js';
export * from './mac.js';
