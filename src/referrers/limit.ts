/**
 * The concurrency bounds live in src/concurrency.ts; this module keeps the import path that
 * src/engine/engine.ts and src/server/decisions.ts use.
 */
export { createKeyedQueue, createLimiter } from '../concurrency.js';
