/**
 * A signature as its signer produced it, before it is placed anywhere: the artifact type, the
 * layers (envelope, bundle or payload, with their annotations) and the manifest annotations an
 * OCI referrer would carry. Signers build one; the caller either attaches it to the image
 * (`attachArtifact`, cosign's `.sig` tag) or writes it to a file (src/detached).
 */
export interface SignatureLayer {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  readonly annotations?: Record<string, string>;
}

export interface SignatureArtifact {
  /** The verifier that reads it. */
  readonly format: 'cosign' | 'notation';
  /** The referrer's `artifactType` (notation signature, cosign artifact signature, sigstore bundle). */
  readonly artifactType: string;
  readonly layers: readonly SignatureLayer[];
  /** Annotations of the referrer manifest. */
  readonly annotations?: Record<string, string>;
}
