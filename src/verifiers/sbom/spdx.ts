/** SPDX 2.2 / 2.3 JSON documents (Syft, Trivy, Kubernetes bom) read into the SBOM model. */
import { asObject, asString, ContentFailure } from '../content/failure.js';
import { licenseIds } from './license-expression.js';
import type { Sbom, SbomPackage } from './model.js';

const SUPPORTED = /^SPDX-2\.[23]$/;

function purlOf(pkg: Record<string, unknown>): string | undefined {
  const refs = Array.isArray(pkg.externalRefs) ? pkg.externalRefs : [];
  for (const ref of refs) {
    const r = asObject(ref);
    if (r && asString(r.referenceType)?.toLowerCase() === 'purl') return asString(r.referenceLocator);
  }
  return undefined;
}

export function readSpdx(doc: Record<string, unknown>): Sbom {
  const version = doc.spdxVersion;
  if (typeof version !== 'string')
    throw new ContentFailure('malformed', 'the SBOM has no "spdxVersion": not an SPDX document');
  if (!SUPPORTED.test(version))
    throw new ContentFailure(
      'malformed',
      `SPDX version ${JSON.stringify(version)} is not supported (2.2 or 2.3)`,
    );
  if (doc.SPDXID !== 'SPDXRef-DOCUMENT')
    throw new ContentFailure('malformed', 'the SPDX document\'s SPDXID is not "SPDXRef-DOCUMENT"');
  const raw = doc.packages ?? [];
  if (!Array.isArray(raw))
    throw new ContentFailure('malformed', 'the SPDX document\'s "packages" is not an array');
  const packages: SbomPackage[] = raw.map((entry, i) => {
    const pkg = asObject(entry);
    const name = asString(pkg?.name);
    if (!pkg || name === undefined) throw new ContentFailure('malformed', `SPDX package ${i} has no name`);
    const licenses = new Set<string>();
    for (const field of ['licenseConcluded', 'licenseDeclared'] as const) {
      const expr = asString(pkg[field]);
      if (expr) for (const id of licenseIds(expr)) licenses.add(id);
    }
    return { name, version: asString(pkg.versionInfo), purl: purlOf(pkg), licenses: [...licenses] };
  });
  return { format: 'spdx', specVersion: version, name: asString(doc.name), packages };
}
