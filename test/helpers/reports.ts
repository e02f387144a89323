/**
 * Builds SARIF 2.1.0 vulnerability reports and SPDX 2.3 SBOMs shaped like Trivy's and Syft's
 * (rule help text `Severity: <LABEL>`, packages with licence expressions), for tests and benches
 * that must not depend on ../shared being beside the checkout.
 */

export interface FindingSpec {
  readonly cve: string;
  readonly severity: string;
  readonly pkg?: string;
}

export function sarifReport(findings: readonly FindingSpec[], scanner = 'Trivy'): Uint8Array {
  const rules = findings.map((f) => ({
    id: f.cve,
    name: 'OsPackageVulnerability',
    shortDescription: { text: `${f.cve} in ${f.pkg ?? 'pkg'}` },
    help: {
      text: `Vulnerability ${f.cve}\nSeverity: ${f.severity.toUpperCase()}\nPackage: ${f.pkg ?? 'pkg'}\nFixed Version: 1.0.1`,
    },
    properties: { 'security-severity': '9.8', tags: ['vulnerability', 'security'] },
  }));
  const results = findings.map((f, i) => ({
    ruleId: f.cve,
    ruleIndex: i,
    level: 'error',
    message: { text: `Package: ${f.pkg ?? 'pkg'}\nInstalled Version: 1.0.0\nVulnerability ${f.cve}` },
    locations: [{ physicalLocation: { artifactLocation: { uri: 'image', uriBaseId: 'ROOTPATH' } } }],
  }));
  return new TextEncoder().encode(
    JSON.stringify({
      version: '2.1.0',
      $schema: 'https://json.schemastore.org/sarif-2.1.0-rtm.5.json',
      runs: [{ tool: { driver: { name: scanner, version: '0.50.0', rules } }, results }],
    }),
  );
}

export interface PackageSpec {
  readonly name: string;
  readonly version: string;
  readonly license: string;
}

export function spdxSbom(packages: readonly PackageSpec[], name = 'test-image'): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: 'SPDXRef-DOCUMENT',
      name,
      documentNamespace: `https://vouch.test/spdx/${name}`,
      creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: vouch-test'] },
      packages: packages.map((p, i) => ({
        name: p.name,
        SPDXID: `SPDXRef-Package-${i}`,
        versionInfo: p.version,
        downloadLocation: 'NOASSERTION',
        licenseConcluded: p.license,
        licenseDeclared: p.license,
        externalRefs: [
          {
            referenceCategory: 'PACKAGE-MANAGER',
            referenceType: 'purl',
            referenceLocator: `pkg:apk/alpine/${p.name}@${p.version}`,
          },
        ],
      })),
    }),
  );
}
