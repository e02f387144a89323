/**
 * Fuzzing manifests, image indexes and referrers indexes (the same parser reads all three), the
 * OCI layout's index.json, and the bounded body reader. Properties: only MANIFEST_INVALID,
 * MANIFEST_UNSUPPORTED, DIGEST_INVALID (and LAYOUT_INVALID for a layout) escape; a manifest that
 * parses has well-formed descriptors; a body over the limit is refused with CONTENT_TOO_LARGE
 * before or while streaming, never returned.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { isDigest } from '../../src/reference/digest.js';
import { readLayoutIndex } from '../../src/registry/layout/layout-index.js';
import { parseDescriptor, parseManifest } from '../../src/registry/manifest.js';
import { contentLength, readLimited } from '../../src/registry/remote/body.js';
import { MediaType } from '../../src/registry/types.js';
import {
  arbitraryBytes,
  check,
  checkAsync,
  mutatedBytes,
  mutatedJson,
  mutatedJsonBytes,
  outcome,
  outcomeAsync,
  recordFixed,
} from './harness.js';

const MANIFEST_CODES = [
  'VouchError:MANIFEST_INVALID',
  'VouchError:MANIFEST_UNSUPPORTED',
  'VouchError:DIGEST_INVALID',
];
const d = (c: string) => `sha256:${c.repeat(64)}`;
const descriptor = (mediaType: string, c: string, extra: Record<string, unknown> = {}) => ({
  mediaType,
  digest: d(c),
  size: 1234,
  ...extra,
});

const IMAGE = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: descriptor('application/vnd.oci.image.config.v1+json', 'a'),
  layers: [descriptor('application/vnd.oci.image.layer.v1.tar+gzip', 'b', { annotations: { x: 'y' } })],
  annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
};
const ARTIFACT = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  artifactType: 'application/vnd.cncf.notary.signature',
  config: descriptor('application/vnd.oci.empty.v1+json', '4', { size: 2 }),
  layers: [descriptor('application/jose+json', 'c')],
  subject: descriptor(MediaType.OciManifest, 'd'),
};
const INDEX = {
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [
    descriptor(MediaType.OciManifest, 'e', { platform: { os: 'linux', architecture: 'amd64' } }),
    descriptor('application/vnd.docker.distribution.manifest.v2+json', 'f', {
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    }),
  ],
};
/** A referrers index as GET /v2/<name>/referrers/<digest> answers it. */
const REFERRERS = {
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [
    descriptor(MediaType.OciManifest, '1', {
      artifactType: 'application/vnd.cncf.notary.signature',
      annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '["ab"]' },
    }),
    descriptor(MediaType.OciManifest, '2', { artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }),
  ],
};
const VALID = [IMAGE, ARTIFACT, INDEX, REFERRERS];
const CONTENT_TYPES = fc.constantFrom(
  undefined,
  MediaType.OciManifest,
  MediaType.OciIndex,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/json',
  'application/octet-stream; charset=x',
  'text/html',
  '',
);

function checkParsed(bytes: Uint8Array, contentType: string | undefined, infer: boolean): void {
  const result = outcome(
    () => parseManifest(bytes, contentType, 'fuzz', { inferMediaType: infer }),
    MANIFEST_CODES,
  );
  if (result !== 'ok') return;
  const m = parseManifest(bytes, contentType, 'fuzz', { inferMediaType: infer });
  const descriptors = m.kind === 'manifest' ? [m.config, ...m.layers] : m.manifests;
  for (const desc of [...descriptors, ...(m.subject ? [m.subject] : [])]) {
    assert.ok(isDigest(desc.digest), `descriptor digest ${desc.digest}`);
    assert.ok(Number.isSafeInteger(desc.size) && desc.size >= 0, `descriptor size ${desc.size}`);
    assert.equal(typeof desc.mediaType, 'string');
  }
}

describe('when manifests and indexes are fuzzed', () => {
  it('arbitrary bytes only fail with manifest codes', () => {
    check('manifest: arbitrary bytes', [arbitraryBytes(), CONTENT_TYPES, fc.boolean()], checkParsed);
  });

  it('edited valid manifests, indexes and referrers indexes only fail with manifest codes', () => {
    check(
      'manifest: mutated valid JSON',
      [fc.constantFrom(...VALID).chain(mutatedJsonBytes), CONTENT_TYPES, fc.boolean()],
      checkParsed,
      3,
    );
  });

  it('byte-edited valid manifests only fail with manifest codes', () => {
    check(
      'manifest: mutated valid bytes',
      [
        fc.constantFrom(...VALID).chain((v) => mutatedBytes(Buffer.from(JSON.stringify(v, null, 1)))),
        CONTENT_TYPES,
      ],
      (bytes, ct) => checkParsed(bytes, ct, false),
      2,
    );
  });

  it('descriptors given any value only fail with manifest codes', () => {
    check(
      'descriptor: mutated',
      [mutatedJson(descriptor(MediaType.OciManifest, 'a', { urls: ['https://x'] }))],
      (v) => {
        outcome(() => parseDescriptor(v, 'fuzz'), MANIFEST_CODES);
      },
    );
  });
});

describe('when an OCI layout index.json is fuzzed', () => {
  let dir: string | undefined;
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  // Regression (found by reading the fuzz findings of atproto for the same pattern): index.json with
  // a schemaVersion or mediaType given as {"toString": 1} made String() throw a raw TypeError.
  it('an index.json with a "toString" member where a scalar belongs is LAYOUT_INVALID', async () => {
    const at = await mkdtemp(path.join(tmpdir(), 'vouch-fuzz-layout-'));
    try {
      await writeFile(path.join(at, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      for (const index of [
        '{"schemaVersion":{"toString":1},"manifests":[]}',
        '{"schemaVersion":2,"mediaType":{"toString":1},"manifests":[]}',
      ]) {
        await writeFile(path.join(at, 'index.json'), index);
        assert.equal(
          await outcomeAsync(() => readLayoutIndex(at), ['VouchError:LAYOUT_INVALID']),
          'VouchError:LAYOUT_INVALID',
        );
      }
      recordFixed('layout: toString member regression', 2);
    } finally {
      await rm(at, { recursive: true, force: true });
    }
  });

  it('only LAYOUT_INVALID escapes', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-fuzz-layout-'));
    const layout = dir;
    const layoutIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: INDEX.manifests };
    await checkAsync(
      'layout: mutated index.json and oci-layout',
      [
        fc.oneof(mutatedJsonBytes(layoutIndex), arbitraryBytes(256)),
        fc.oneof(
          fc.constant(Buffer.from('{"imageLayoutVersion":"1.0.0"}')),
          mutatedJsonBytes({ imageLayoutVersion: '1.0.0' }),
        ),
      ],
      async (index, marker) => {
        await writeFile(path.join(layout, 'index.json'), index);
        await writeFile(path.join(layout, 'oci-layout'), marker);
        await outcomeAsync(() => readLayoutIndex(layout), ['VouchError:LAYOUT_INVALID']);
      },
      0.5,
    );
  });
});

function chunked(total: number, chunk: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const n = Math.min(chunk, total - sent);
      sent += n;
      this.push(Buffer.alloc(n, 0x7b));
    },
  });
}

describe('when bodies are read under a size limit', () => {
  it('a body over the limit is refused with CONTENT_TOO_LARGE, with or without Content-Length', async () => {
    await checkAsync(
      'body: size limit',
      [
        fc.integer({ min: 0, max: 64 * 1024 }),
        fc.integer({ min: 1, max: 128 * 1024 }),
        fc.integer({ min: 256, max: 16 * 1024 }),
        fc.constantFrom('declared', 'absent', 'lying-low'),
      ],
      async (limit, total, chunk, header) => {
        const declared =
          header === 'declared' ? total : header === 'lying-low' ? Math.min(total, limit) : undefined;
        const signal = new AbortController().signal;
        const result = await outcomeAsync(
          () => readLimited(chunked(total, chunk), limit, 'fuzz body', declared, signal),
          ['VouchError:CONTENT_TOO_LARGE', 'VouchError:CONTENT_TRUNCATED'],
        );
        if (total > limit) assert.equal(result, 'VouchError:CONTENT_TOO_LARGE');
        else assert.equal(result, 'ok');
      },
    );
  });

  it('Content-Length headers of any shape parse to a safe integer or nothing', () => {
    check(
      'body: content-length header',
      [fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^[0-9]{1,30}$/))],
      (v) => {
        const n = contentLength({ 'content-length': v });
        assert.ok(n === undefined || (Number.isInteger(n) && n >= 0));
      },
    );
  });
});
