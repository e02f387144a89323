import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVouchError } from '../../src/errors.js';
import { referrersTag } from '../../src/registry/referrers-tag.js';

describe('referrersTag (distribution-spec § Referrers Tag Schema)', () => {
  it('replaces the colon of a sha256 digest with a dash', () => {
    assert.equal(referrersTag(`sha256:${'a1'.repeat(32)}`), `sha256-${'a1'.repeat(32)}`);
  });
  it('cuts a sha512 hex to 64 characters', () => {
    assert.equal(
      referrersTag(`sha512:${'0123456789abcdef'.repeat(8)}`),
      `sha512-${'0123456789abcdef'.repeat(4)}`,
    );
  });
  it('refuses a malformed digest with DIGEST_INVALID', () => {
    assert.throws(
      () => referrersTag('sha256:abc'),
      (err: unknown) => isVouchError(err, 'DIGEST_INVALID'),
    );
  });
});
