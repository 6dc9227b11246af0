export * from './model.js';
export * from './parse.js';
export * from './community.js';
export * from './duration.js';
export * from './label-selector.js';
