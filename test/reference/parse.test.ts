import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVouchError } from '../../src/errors.js';
import {
  computeDigest,
  formatReference,
  manifestReference,
  parseAnyReference,
  parseReference,
  pinnedReference,
  repositoryName,
  validateDigest,
  withDefaultTag,
} from '../../src/reference/index.js';

const H = 'a'.repeat(64);
const D = `sha256:${H}`;
const D512 = `sha512:${'b'.repeat(128)}`;

type Ok = [input: string, registry: string, repository: string, tag?: string, digest?: string];

const valid: Ok[] = [
  ['alpine', 'docker.io', 'library/alpine'],
  ['alpine:3.20', 'docker.io', 'library/alpine', '3.20'],
  ['library/alpine', 'docker.io', 'library/alpine'],
  ['docker.io/alpine', 'docker.io', 'library/alpine'],
  ['index.docker.io/alpine:latest', 'docker.io', 'library/alpine', 'latest'],
  ['index.docker.io/user/app', 'docker.io', 'user/app'],
  ['user/app:v1', 'docker.io', 'user/app', 'v1'],
  ['ghcr.io/org/team/app:1.0.0', 'ghcr.io', 'org/team/app', '1.0.0'],
  ['localhost/app', 'localhost', 'app'],
  ['localhost:5000/app:dev', 'localhost:5000', 'app', 'dev'],
  ['127.0.0.1:5000/a/b/c', '127.0.0.1:5000', 'a/b/c'],
  ['[::1]:5000/app:v2', '[::1]:5000', 'app', 'v2'],
  ['[fe80::1]/app', '[fe80::1]', 'app'],
  [`alpine@${D}`, 'docker.io', 'library/alpine', undefined, D],
  [`ghcr.io/x/y:v1@${D}`, 'ghcr.io', 'x/y', 'v1', D],
  [`registry.example.com:443/x@${D512}`, 'registry.example.com:443', 'x', undefined, D512],
  ['my-registry.example.com/a_b/c__d/e-f/g.h', 'my-registry.example.com', 'a_b/c__d/e-f/g.h'],
  ['example.com/a---b', 'example.com', 'a---b'],
  ['Registry.Example/app', 'Registry.Example', 'app'],
  ['app:_under', 'docker.io', 'library/app', '_under'],
  ['app:V1.2-rc_3', 'docker.io', 'library/app', 'V1.2-rc_3'],
  [`app:${'t'.repeat(128)}`, 'docker.io', 'library/app', 't'.repeat(128)],
];

type Bad = [input: string, code: 'REFERENCE_INVALID' | 'DIGEST_INVALID', messagePart: RegExp];

const malformed: Bad[] = [
  ['', 'REFERENCE_INVALID', /empty/],
  ['Alpine', 'REFERENCE_INVALID', /must be lowercase/],
  ['ghcr.io/Org/app', 'REFERENCE_INVALID', /must be lowercase/],
  ['app:bad/tag', 'REFERENCE_INVALID', /path component|lowercase|tag/],
  ['app:.dot', 'REFERENCE_INVALID', /tag ".dot"/],
  ['app:-dash', 'REFERENCE_INVALID', /tag "-dash"/],
  ['app:with+plus', 'REFERENCE_INVALID', /tag "with\+plus"/],
  ['app:', 'REFERENCE_INVALID', /tag after ":" is empty/],
  [`app:${'t'.repeat(129)}`, 'REFERENCE_INVALID', /129 characters.*at most 128/],
  ['localhost:99999/app', 'REFERENCE_INVALID', /port 99999 is out of range/],
  ['localhost:0/app', 'REFERENCE_INVALID', /port 0 is out of range/],
  ['example.com:http/app', 'REFERENCE_INVALID', /port "http" is not a number/],
  ['example.com:/app', 'REFERENCE_INVALID', /port after "example.com:" is empty/],
  ['ghcr.io/', 'REFERENCE_INVALID', /repository name after the registry host is missing/],
  ['[::1]:5000', 'REFERENCE_INVALID', /no repository follows/],
  ['[::1:5000/app', 'REFERENCE_INVALID', /no closing "]"/],
  ['[zz::1]/app', 'REFERENCE_INVALID', /not a valid IPv6 literal/],
  ['-bad.host/app', 'REFERENCE_INVALID', /not a valid host name/],
  ['ghcr.io//app', 'REFERENCE_INVALID', /empty path component/],
  ['ghcr.io/app/', 'REFERENCE_INVALID', /empty path component/],
  ['ghcr.io/a..b', 'REFERENCE_INVALID', /path component "a..b"/],
  ['ghcr.io/_a', 'REFERENCE_INVALID', /path component "_a"/],
  ['ghcr.io/a___b', 'REFERENCE_INVALID', /path component "a___b"/],
  ['has space', 'REFERENCE_INVALID', /whitespace/],
  ['https://ghcr.io/app', 'REFERENCE_INVALID', /URL scheme/],
  ['@sha256:abc', 'REFERENCE_INVALID', /repository name is missing/],
  ['app@', 'REFERENCE_INVALID', /digest after "@" is empty/],
  [`app@${D}@${D}`, 'REFERENCE_INVALID', /more than one "@"/],
  ['app@sha256:abc', 'DIGEST_INVALID', /64 hex characters, this one has 3/],
  [`app@md5:${'a'.repeat(32)}`, 'DIGEST_INVALID', /unsupported digest algorithm "md5"/],
  [`app@sha256:${'A'.repeat(64)}`, 'DIGEST_INVALID', /must be lowercase/],
  [`app@sha256:${'g'.repeat(64)}`, 'DIGEST_INVALID', /other than 0-9 and a-f/],
  [`app@${H}`, 'DIGEST_INVALID', /no algorithm prefix/],
  [`${'a'.repeat(250)}/${'b'.repeat(10)}`, 'REFERENCE_INVALID', /at most 255/],
  ['oci:./layout', 'REFERENCE_INVALID', /OCI layout reference/],
];

describe('parseReference: valid references', () => {
  for (const [input, registry, repository, tag, digest] of valid) {
    it(input.length > 60 ? `${input.slice(0, 57)}...` : input, () => {
      const ref = parseReference(input);
      assert.equal(ref.registry, registry);
      assert.equal(ref.repository, repository);
      assert.equal(ref.tag, tag);
      assert.equal(ref.digest, digest);
    });
  }
});

describe('parseReference: malformed references name the problem', () => {
  for (const [input, code, message] of malformed) {
    it(JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input), () => {
      assert.throws(
        () => parseReference(input),
        (err: unknown) => {
          assert.ok(isVouchError(err, code), `expected ${code}, got ${String(err)}`);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});

describe('validateDigest', () => {
  it('accepts sha256 and sha512', () => {
    assert.equal(validateDigest(D), D);
    assert.equal(validateDigest(D512), D512);
  });
  it('distinguishes unknown algorithm, wrong length and non-hex', () => {
    assert.throws(() => validateDigest(`sha1:${'a'.repeat(40)}`), /unsupported digest algorithm "sha1"/);
    assert.throws(
      () => validateDigest(`sha512:${H}`),
      /sha512 digest has 128 hex characters, this one has 64/,
    );
    assert.throws(() => validateDigest(`sha256:${'z'.repeat(64)}`), /other than 0-9 and a-f/);
    assert.throws(() => validateDigest('sha256:'), /hex part is empty/);
    assert.throws(() => validateDigest(`:${H}`), /algorithm is empty/);
    assert.throws(() => validateDigest(`SHA256:${H}`), /not well-formed/);
  });
  it('computeDigest matches the sha256 of the bytes', () => {
    assert.equal(
      computeDigest(new TextEncoder().encode('')),
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});

describe('formatting', () => {
  it('formats canonical strings', () => {
    assert.equal(formatReference(parseReference('alpine:3')), 'docker.io/library/alpine:3');
    assert.equal(formatReference(parseReference(`[::1]:5000/a/b:t@${D}`)), `[::1]:5000/a/b:t@${D}`);
    assert.equal(repositoryName(parseReference('ghcr.io/x/y:1')), 'ghcr.io/x/y');
    assert.equal(pinnedReference(parseReference('ghcr.io/x/y:1'), D), `ghcr.io/x/y@${D}`);
    assert.throws(() => pinnedReference(parseReference('ghcr.io/x/y'), 'sha256:1'), /DIGEST|digest/);
  });
  it('round-trips: parse(format(parse(x))) equals parse(x)', () => {
    for (const [input] of valid) {
      const ref = parseReference(input);
      assert.deepEqual(parseReference(formatReference(ref)), ref);
    }
  });
  it('defaults to latest only when neither tag nor digest is given', () => {
    assert.equal(withDefaultTag(parseReference('alpine')).tag, 'latest');
    assert.equal(withDefaultTag(parseReference(`alpine@${D}`)).tag, undefined);
    assert.equal(manifestReference(parseReference(`alpine:1@${D}`)), D);
    assert.equal(manifestReference(parseReference('alpine:1')), '1');
    assert.equal(manifestReference(parseReference('alpine')), 'latest');
  });
});

describe('parseAnyReference', () => {
  it('parses OCI layout references', () => {
    assert.deepEqual(parseAnyReference('oci:./examples/layout'), {
      kind: 'layout',
      dir: './examples/layout',
    });
    assert.deepEqual(parseAnyReference('oci:/tmp/l:v1'), { kind: 'layout', dir: '/tmp/l', tag: 'v1' });
    assert.deepEqual(parseAnyReference(`oci:/tmp/l@${D}`), { kind: 'layout', dir: '/tmp/l', digest: D });
    assert.deepEqual(parseAnyReference('oci:layout:v1'), { kind: 'layout', dir: 'layout', tag: 'v1' });
    assert.equal(formatReference(parseAnyReference('oci:/tmp/l:v1')), 'oci:/tmp/l:v1');
  });
  it('passes registry references through', () => {
    assert.deepEqual(parseAnyReference('alpine:1'), {
      registry: 'docker.io',
      repository: 'library/alpine',
      tag: '1',
    });
  });
  it('rejects malformed layout references', () => {
    assert.throws(() => parseAnyReference('oci:'), /layout directory after "oci:" is empty/);
    assert.throws(() => parseAnyReference('oci:/tmp/l:'), /tag after ":" is empty/);
    assert.throws(() => parseAnyReference('oci:/tmp/l@sha256:12'), /64 hex characters/);
  });
});
