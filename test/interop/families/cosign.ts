/**
 * Interop handlers for the `cosign` family (../shared/interop/cosign/README.md documents the kinds).
 * A kind with no handler here fails in the runner; nothing is skipped.
 */
import type { FamilyHandlers } from '../types.js';

export const cosignFamily: FamilyHandlers = {
  family: 'cosign',
  handlers: {},
};
