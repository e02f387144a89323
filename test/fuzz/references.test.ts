/**
 * Fuzzing image references and digests: arbitrary strings and small edits of valid references
 * only ever fail with REFERENCE_INVALID or DIGEST_INVALID; every reference the grammar generates
 * parses, and formats back to a reference that parses to the same value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDuration } from '../../src/config/duration.js';
import { digestAlgorithm, validateDigest } from '../../src/reference/digest.js';
import {
  formatReference,
  manifestReference,
  NAME_MAX_LENGTH,
  parseAnyReference,
  parseReference,
} from '../../src/reference/parse.js';
import { cosignTag } from '../../src/referrers/cosign-tags.js';
import { referrersTag } from '../../src/registry/referrers-tag.js';
import { parseDistinguishedName } from '../../src/trust/notation/dn.js';
import { check, mutatedString, outcome } from './harness.js';

const REFERENCE_CODES = ['VouchError:REFERENCE_INVALID', 'VouchError:DIGEST_INVALID'];

const component = fc
  .array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 3 })
  .chain((parts) =>
    fc
      .array(fc.constantFrom('.', '_', '__', '-', '--'), {
        minLength: parts.length - 1,
        maxLength: parts.length - 1,
      })
      .map((seps) => parts.map((p, i) => (i === 0 ? p : `${seps[i - 1]}${p}`)).join('')),
  );
const host = fc.oneof(
  fc.constantFrom(
    'localhost',
    'localhost:5000',
    'docker.io',
    'index.docker.io',
    '127.0.0.1:5000',
    '[::1]:5000',
  ),
  fc
    .tuple(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/),
      fc.constantFrom('.io', '.example.com', '.test:443'),
    )
    .map(([a, b]) => a + b),
);
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const digest = fc.oneof(
  hex64.map((h) => `sha256:${h}`),
  fc.tuple(hex64, hex64).map(([a, b]) => `sha512:${a}${b}`),
);
/** References the docker/distribution grammar accepts. */
const validReference = fc
  .record({
    host: fc.option(host, { nil: undefined }),
    path: fc.array(component, { minLength: 1, maxLength: 3 }),
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  // without a host, a first component with "." (or "localhost") would be read as one
  .filter((r) => r.host !== undefined || !(r.path[0]!.includes('.') || r.path[0] === 'localhost'))
  .map(
    (r) =>
      `${r.host ? `${r.host}/` : ''}${r.path.join('/')}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`,
  )
  .filter((s) => s.split('@')[0]!.replace(/:[^/]*$/, '').length <= NAME_MAX_LENGTH);

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom(...'aA0:/@._-[]%'), maxLength: 80 }),
  fc.constant('a'.repeat(300)),
);

describe('when references are fuzzed', () => {
  it('arbitrary strings only fail with REFERENCE_INVALID or DIGEST_INVALID', () => {
    check('reference: arbitrary', [anyText], (s) => {
      outcome(() => parseReference(s), REFERENCE_CODES);
      outcome(() => parseAnyReference(s), REFERENCE_CODES);
      outcome(() => parseAnyReference(`oci:${s}`), REFERENCE_CODES);
    });
  });

  it('generated valid references parse and round-trip through formatReference', () => {
    check('reference: valid round trip', [validReference], (s) => {
      const ref = parseReference(s);
      const again = parseReference(formatReference(ref));
      assert.deepEqual(again, ref);
      outcome(() => manifestReference(ref), REFERENCE_CODES);
    });
  });

  it('edited valid references parse to a well-formed value or fail with a reference code', () => {
    check(
      'reference: mutated valid',
      [validReference.chain((s) => mutatedString(s))],
      (s) => {
        if (outcome(() => parseReference(s), REFERENCE_CODES) === 'ok') {
          const ref = parseReference(s);
          assert.deepEqual(parseReference(formatReference(ref)), ref);
        }
        outcome(() => parseAnyReference(s), REFERENCE_CODES);
      },
      2,
    );
  });
});

describe('when digests are fuzzed', () => {
  it('arbitrary and edited digests only fail with DIGEST_INVALID', () => {
    check('digest: arbitrary and mutated', [fc.oneof(anyText, digest.chain(mutatedString))], (s) => {
      if (outcome(() => validateDigest(s), ['VouchError:DIGEST_INVALID']) === 'ok') {
        assert.match(s, /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/);
        assert.ok(['sha256', 'sha512'].includes(digestAlgorithm(s)));
        assert.match(referrersTag(s), /^sha(256|512)-[0-9a-f]+$/);
      }
      outcome(() => referrersTag(s), ['VouchError:DIGEST_INVALID']);
      outcome(() => cosignTag(s, 'sig'), ['VouchError:DIGEST_INVALID']);
    });
  });
});

describe('when small text grammars are fuzzed', () => {
  it('durations fail only with CONFIG_INVALID; distinguished names return an error, never throw', () => {
    check(
      'duration and DN: arbitrary',
      [fc.oneof(anyText, fc.stringMatching(/^[0-9]{1,20}(ms|s|m|h|d)?$/))],
      (s) => {
        if (outcome(() => parseDuration(s, 'fuzz'), ['VouchError:CONFIG_INVALID']) === 'ok')
          assert.ok(Number.isFinite(parseDuration(s, 'fuzz')));
        outcome(() => parseDistinguishedName(s), []);
        outcome(() => parseDistinguishedName(`CN=${s}, O=acme`), []);
      },
    );
  });
});
