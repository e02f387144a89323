/** The in-toto predicate type of a CycloneDX SBOM attestation (as `cosign attest --type cyclonedx`). */
export const CYCLONEDX_PREDICATE_TYPE = 'https://cyclonedx.org/bom';
