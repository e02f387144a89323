/**
 * The shared manifest parser (src/registry/manifest.ts) as the layout store uses it: a manifest
 * read by digest alone may omit `mediaType` (image-spec: SHOULD), and then its shape decides.
 * The remote client's stricter cases are in test/registry/remote/manifest.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVouchError } from '../../src/errors.js';
import { parseManifest } from '../../src/registry/manifest.js';
import { MediaType } from '../../src/registry/types.js';

const D = `sha256:${'b'.repeat(64)}`;
const desc = { mediaType: MediaType.OciConfig, digest: D, size: 2 };
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('parseManifest when no media type is named anywhere', () => {
  const cases: Array<[string, unknown, string]> = [
    ['an index by its manifests array', { schemaVersion: 2, manifests: [desc] }, MediaType.OciIndex],
    ['an image manifest otherwise', { schemaVersion: 2, config: desc, layers: [] }, MediaType.OciManifest],
  ];
  for (const [name, body, expected] of cases) {
    it(`with inferMediaType, reads ${name}`, () => {
      assert.equal(parseManifest(enc(body), undefined, 'm', { inferMediaType: true }).mediaType, expected);
    });
    it(`without it, refuses ${name}`, () => {
      assert.throws(
        () => parseManifest(enc(body), undefined, 'm'),
        (err: unknown) => isVouchError(err, 'MANIFEST_INVALID') && /no mediaType/.test(err.message),
      );
    });
  }

  it('still lets the declared type win over the shape', () => {
    const m = parseManifest(enc({ schemaVersion: 2, manifests: [] }), MediaType.DockerManifestList, 'm', {
      inferMediaType: true,
    });
    assert.equal(m.mediaType, MediaType.DockerManifestList);
  });
});
