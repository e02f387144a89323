/**
 * Media types and annotation keys of cosign and sigstore artifacts in OCI registries.
 * Sources: cosign `specs/SIGNATURE_SPEC.md`, `specs/BUNDLE_SPEC.md`; sigstore protobuf-specs
 * `docs/bundle.md` (bundle media types).
 */
export const MediaTypes = {
  simpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  dsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  bundleV03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  bundlePrefix: 'application/vnd.dev.sigstore.bundle+json',
  cosignArtifactSignature: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  inTotoPayload: 'application/vnd.in-toto+json',
} as const;

export const Annotation = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  bundleContent: 'dev.sigstore.bundle.content',
  bundlePredicateType: 'dev.sigstore.bundle.predicateType',
  predicateType: 'predicateType',
} as const;

/** True for any sigstore bundle media type (`…bundle.v0.3+json` or `…bundle+json;version=0.x`). */
export function isBundleMediaType(mediaType: string | undefined): boolean {
  if (!mediaType) return false;
  return mediaType === MediaTypes.bundleV03 || mediaType.startsWith(MediaTypes.bundlePrefix);
}
