/** A parsed, normalized image reference (docker/distribution grammar). */
export interface ImageReference {
  /** Registry host as written, normalized: `docker.io` for Docker Hub; may carry `:port`; IPv6 in brackets. */
  readonly registry: string;
  /** Repository path, normalized (`library/alpine` on Docker Hub). */
  readonly repository: string;
  /** Tag, when given (`latest` is NOT implied by the parser; see `withDefaultTag`). */
  readonly tag?: string;
  /** Digest, when given: `<alg>:<hex>`, validated. */
  readonly digest?: string;
}

/** An image in an OCI image layout directory: `oci:<dir>[:<tag>|@<digest>]`. */
export interface LayoutReference {
  readonly kind: 'layout';
  readonly dir: string;
  readonly tag?: string;
  readonly digest?: string;
}
