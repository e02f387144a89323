import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVouchError } from '../../../src/errors.js';
import { mergeScopes } from '../../../src/registry/remote/challenge.js';
import { nextLink } from '../../../src/registry/remote/context.js';
import { parseChallenge, parseManifest } from '../../../src/registry/remote/index.js';
import { parseRetryAfter } from '../../../src/registry/remote/retry.js';
import { MediaType } from '../../../src/registry/types.js';

const D = `sha256:${'a'.repeat(64)}`;
const desc = { mediaType: MediaType.OciConfig, digest: D, size: 2 };
const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseManifest', () => {
  it('parses image manifests and indexes, keeping subject and artifactType', () => {
    const m = parseManifest(
      enc({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: 'x/y',
        config: desc,
        layers: [desc],
        subject: desc,
      }),
      undefined,
      'm',
    );
    assert.equal(m.kind, 'manifest');
    assert.equal(m.artifactType, 'x/y');
    assert.equal(m.subject?.digest, D);
    const i = parseManifest(
      enc({ schemaVersion: 2, manifests: [desc] }),
      `${MediaType.OciIndex}; charset=utf-8`,
      'i',
    );
    assert.equal(i.kind, 'index');
    assert.equal(i.mediaType, MediaType.OciIndex);
    const docker = parseManifest(
      enc({ schemaVersion: 2, mediaType: MediaType.DockerManifestList, manifests: [] }),
      undefined,
      'd',
    );
    assert.equal(docker.kind, 'index');
  });

  const bad: Array<[string, unknown, string | undefined, string, RegExp]> = [
    [
      'invalid JSON',
      '{"schemaVersion": 2,',
      MediaType.OciManifest,
      'MANIFEST_INVALID',
      /not valid UTF-8 JSON/,
    ],
    ['not an object', '[1,2]', MediaType.OciManifest, 'MANIFEST_INVALID', /not a JSON object/],
    [
      'wrong schemaVersion',
      { schemaVersion: 3, mediaType: MediaType.OciManifest },
      undefined,
      'MANIFEST_INVALID',
      /schemaVersion is 3/,
    ],
    [
      'no mediaType anywhere',
      { schemaVersion: 2, config: desc, layers: [] },
      undefined,
      'MANIFEST_INVALID',
      /no mediaType/,
    ],
    [
      'mediaType disagrees with declared',
      { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] },
      MediaType.OciManifest,
      'MANIFEST_INVALID',
      /differs from the declared/,
    ],
    [
      'unknown mediaType',
      { schemaVersion: 2, mediaType: 'text/plain' },
      undefined,
      'MANIFEST_UNSUPPORTED',
      /text\/plain/,
    ],
    [
      'missing config',
      { schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] },
      undefined,
      'MANIFEST_INVALID',
      /"config" descriptor is missing/,
    ],
    [
      'missing layers',
      { schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc },
      undefined,
      'MANIFEST_INVALID',
      /"layers" array is missing/,
    ],
    [
      'missing manifests',
      { schemaVersion: 2, mediaType: MediaType.OciIndex },
      undefined,
      'MANIFEST_INVALID',
      /"manifests" array is missing/,
    ],
    [
      'bad layer digest',
      {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: desc,
        layers: [{ ...desc, digest: 'sha256:zz' }],
      },
      undefined,
      'MANIFEST_INVALID',
      /layers\[0\].*not a valid sha256\/sha512 digest/,
    ],
    [
      'negative size',
      { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { ...desc, size: -1 }, layers: [] },
      undefined,
      'MANIFEST_INVALID',
      /config.*non-negative integer/,
    ],
    [
      'non-string annotation',
      { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [], annotations: { a: 1 } },
      undefined,
      'MANIFEST_INVALID',
      /annotation "a" is not a string/,
    ],
    [
      'schema 1',
      { schemaVersion: 1, name: 'x' },
      'application/json',
      'MANIFEST_UNSUPPORTED',
      /Docker schema 1/,
    ],
  ];
  for (const [name, body, type, code, message] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => parseManifest(enc(body), type, 'manifest "t" of r/x'),
        (err: unknown) => {
          assert.ok(isVouchError(err) && err.code === code, `expected ${code}, got ${String(err)}`);
          assert.match(err.message, message);
          assert.match(err.message, /manifest "t" of r\/x/);
          return true;
        },
      );
    });
  }
});

describe('protocol details', () => {
  it('parses WWW-Authenticate challenges', () => {
    assert.deepEqual(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
      ),
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example/token',
          service: 'registry.example',
          scope: 'repository:a/b:pull',
        },
      },
    );
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), {
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
    assert.equal(parseChallenge('Negotiate abc'), undefined);
    assert.equal(parseChallenge(undefined), undefined);
  });
  it('merges scopes per resource', () => {
    assert.deepEqual(mergeScopes(['repository:a:pull', 'repository:a:push,pull', 'repository:b:pull']), [
      'repository:a:pull,push',
      'repository:b:pull',
    ]);
  });
  it('reads Link rel="next" and Retry-After', () => {
    const base = new URL('http://r.example/v2/a/tags/list');
    assert.equal(
      nextLink('</v2/a/tags/list?last=x&n=2>; rel="next"', base)?.href,
      'http://r.example/v2/a/tags/list?last=x&n=2',
    );
    assert.equal(nextLink('<http://r.example/p>; rel="prev"', base), undefined);
    assert.equal(parseRetryAfter('3'), 3000);
    assert.ok((parseRetryAfter(new Date(Date.now() + 5000).toUTCString()) ?? 0) > 3000);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});
