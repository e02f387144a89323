/**
 * The families the runner knows. Each family's handlers live in their own file, owned by that verifier.
 */
import type { FamilyHandlers } from '../types.js';
import { atprotoFamily } from './atproto.js';
import { cosignFamily } from './cosign.js';
import { notationFamily } from './notation.js';
import { reportsFamily } from './reports.js';

export const families: readonly FamilyHandlers[] = [
  notationFamily,
  cosignFamily,
  atprotoFamily,
  reportsFamily,
];
