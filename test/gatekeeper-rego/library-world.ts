/**
 * The world Ratify's library templates are written for: Notary Project signatures, SBOMs and
 * vulnerability reports attached to images, each report signed in turn (a referrer of the report).
 * On a real registry, under `lib/`:
 *
 * - `signed:v1`: notation-signed; a clean SPDX SBOM and a clean SARIF report (created now), each
 *   notation-signed;
 * - `critical:v1`: the same, but the SARIF report lists a critical CVE;
 * - `unsigned:v1`: nothing attached.
 *
 * The vouch config trusts the signing certificate for notation, judges SBOMs and reports with
 * Ratify's parameters, and its policy requires all three under `lib/`.
 */
import type { VouchConfigInput } from '../../src/config/schema.js';
import { parseReference } from '../../src/reference/parse.js';
import { attachArtifact } from '../../src/referrers/attach.js';
import { createRegistryClient } from '../../src/registry/client.js';
import type { Descriptor, Repository } from '../../src/registry/types.js';
import { signNotation } from '../../src/sign/notation/index.js';
import { generateTestCertificate } from '../../src/sign/notation/testcert.js';
import { pushTestImage } from '../helpers/images.js';
import { trustAllNotationConfig } from '../helpers/notation-dir.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { sarifReport, spdxSbom } from '../helpers/reports.js';

/** The signing certificate's common name; it is self-signed, so this is also its issuer. */
export const SIGNER_NAME = 'ratify-library.test';
/** Its issuer as Ratify's notation verifier writes `extensions.Issuer` (Go's pkix.Name.String). */
export const SIGNER_ISSUER = `CN=${SIGNER_NAME},O=Notary,L=Seattle,ST=WA,C=US`;

export const NOTARY_SIGNATURE = 'application/vnd.cncf.notary.signature';

export interface LibraryWorld {
  readonly registry: TestRegistry;
  readonly host: string;
  readonly image: { readonly signed: string; readonly critical: string; readonly unsigned: string };
  /** vouch.yaml as an object, and the files beside it it names. */
  readonly config: VouchConfigInput;
  readonly files: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

export async function startLibraryWorld(): Promise<LibraryWorld> {
  const registry = await startRegistry();
  const client = createRegistryClient({ insecureHosts: [registry.host] });
  try {
    const cert = await generateTestCertificate({ name: SIGNER_NAME, keyAlgorithm: 'ec-p256' });
    const sign = (repository: Repository, subject: Descriptor) =>
      signNotation({ repository, subject, keyPem: cert.keyPem, certChainPem: cert.certPem, envelope: 'jws' });
    const created = { 'org.opencontainers.image.created': new Date().toISOString() };
    const push = async (name: string, cves: Array<{ cve: string; severity: string }> | undefined) => {
      const repository = client.repository(parseReference(`${registry.host}/lib/${name}:v1`));
      const image = await pushTestImage(repository, 'v1', `ratify-library-${name}`);
      if (!cves) return;
      await sign(repository, image);
      const sbom = await attachArtifact(repository, {
        subject: image,
        artifactType: 'application/spdx+json',
        layers: [
          {
            bytes: spdxSbom([{ name: 'musl', version: '1.2.4', license: 'MIT' }], name),
            mediaType: 'application/spdx+json',
          },
        ],
        annotations: created,
      });
      await sign(repository, sbom);
      const report = await attachArtifact(repository, {
        subject: image,
        artifactType: 'application/sarif+json',
        layers: [{ bytes: sarifReport(cves), mediaType: 'application/sarif+json' }],
        annotations: created,
      });
      await sign(repository, report);
    };
    await push('signed', [{ cve: 'CVE-2024-3000', severity: 'medium' }]);
    await push('critical', [{ cve: 'CVE-2024-4000', severity: 'critical' }]);
    await push('unsigned', undefined);
    const config: VouchConfigInput = {
      registries: { insecure: [registry.host], dockerConfig: false },
      verifiers: {
        notation: trustAllNotationConfig('lib'),
        sbom: { disallowedLicenses: ['GPL-3.0-only'] },
        vulnerabilityReport: { disallowedSeverities: ['critical', 'high'], maximumAge: '24h' },
      },
      policy: {
        default: 'deny',
        rules: [
          {
            name: 'library',
            scope: `${registry.host}/lib/*`,
            require: [{ verifier: 'notation' }, { verifier: 'sbom' }, { verifier: 'vulnerabilityReport' }],
          },
        ],
      },
    };
    const ref = (name: string) => `${registry.host}/lib/${name}:v1`;
    return {
      registry,
      host: registry.host,
      image: { signed: ref('signed'), critical: ref('critical'), unsigned: ref('unsigned') },
      config,
      files: { 'ca.crt': cert.certPem },
      async close() {
        await registry.stop();
      },
    };
  } catch (err) {
    await registry.stop();
    throw err;
  } finally {
    await client.close();
  }
}
