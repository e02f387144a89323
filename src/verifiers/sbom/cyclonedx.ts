/** CycloneDX 1.4–1.7 JSON BOMs (Syft, Trivy, cyclonedx-npm) read into the SBOM model. */
import { asObject, asString, ContentFailure } from '../content/failure.js';
import { licenseIds } from './license-expression.js';
import type { Sbom, SbomPackage } from './model.js';

const SUPPORTED = /^1\.[4-7]$/;
/** Nesting of `components` (a component may hold components); deeper is refused, not recursed. */
const MAX_DEPTH = 32;

function licensesOf(component: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const list = Array.isArray(component.licenses) ? component.licenses : [];
  for (const entry of list) {
    const choice = asObject(entry);
    const expression = asString(choice?.expression);
    if (expression) for (const id of licenseIds(expression)) out.add(id);
    const license = asObject(choice?.license);
    const id = asString(license?.id) ?? asString(license?.name);
    if (id) out.add(id);
  }
  return [...out];
}

function collect(list: unknown, into: SbomPackage[], depth: number, path: string): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new ContentFailure('malformed', `CycloneDX ${path} is not an array`);
  if (depth > MAX_DEPTH)
    throw new ContentFailure('malformed', `CycloneDX components nest deeper than ${MAX_DEPTH}`);
  list.forEach((entry, i) => {
    const c = asObject(entry);
    const name = asString(c?.name);
    if (!c || name === undefined)
      throw new ContentFailure('malformed', `CycloneDX ${path}[${i}] has no name`);
    into.push({ name, version: asString(c.version), purl: asString(c.purl), licenses: licensesOf(c) });
    collect(c.components, into, depth + 1, `${path}[${i}].components`);
  });
}

export function readCycloneDx(doc: Record<string, unknown>): Sbom {
  if (doc.bomFormat !== 'CycloneDX')
    throw new ContentFailure('malformed', 'the SBOM\'s "bomFormat" is not "CycloneDX"');
  const version = doc.specVersion;
  if (typeof version !== 'string' || !SUPPORTED.test(version))
    throw new ContentFailure(
      'malformed',
      `CycloneDX specVersion ${JSON.stringify(version)} is not supported (1.4 to 1.7)`,
    );
  const packages: SbomPackage[] = [];
  collect(doc.components, packages, 0, 'components');
  const name = asString(asObject(asObject(doc.metadata)?.component)?.name);
  return { format: 'cyclonedx', specVersion: `CycloneDX ${version}`, name, packages };
}
