export * from './files.js';
export * from './format.js';
export * from './repository.js';
