/**
 * Interop handlers for the `notation` family (../shared/interop/notation/README.md documents the kinds).
 * A kind with no handler here fails in the runner; nothing is skipped.
 */
import type { FamilyHandlers } from '../types.js';

export const notationFamily: FamilyHandlers = {
  family: 'notation',
  handlers: {},
};
