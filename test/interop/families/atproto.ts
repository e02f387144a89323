/**
 * Interop handlers for the `atproto` family (../shared/interop/atproto/README.md documents the kinds).
 * A kind with no handler here fails in the runner; nothing is skipped.
 */
import type { FamilyHandlers } from '../types.js';

export const atprotoFamily: FamilyHandlers = {
  family: 'atproto',
  handlers: {},
};
