/**
 * Ratify's SBOM policy over a parsed SBOM: `disallowedLicenses` (SPDX ids, case-insensitive as
 * SPDX says, also inside expressions) and `disallowedPackages` (`name`, optional `version`,
 * optional `purl`; without a version every version of the name matches).
 */
import type { DisallowedPackage, SbomPolicy } from '../../policy/content.js';
import type { ContentReason } from '../content/failure.js';
import type { Sbom, SbomPackage } from './model.js';

export type { DisallowedPackage, SbomPolicy };

export interface SbomViolation {
  readonly name: string;
  readonly version?: string;
  readonly license?: string;
}

export interface SbomVerdict {
  readonly reason: Extract<ContentReason, 'ok' | 'disallowed-license' | 'disallowed-package'>;
  readonly message: string;
  readonly licenseViolations: readonly SbomViolation[];
  readonly packageViolations: readonly SbomViolation[];
}

/** A purl without qualifiers and subpath; without the version too when `withVersion` is false. */
function purlBase(purl: string, withVersion: boolean): string {
  const bare = purl.split(/[?#]/)[0] as string;
  return withVersion ? bare : (bare.split('@')[0] as string);
}

function matches(pkg: SbomPackage, rule: DisallowedPackage): boolean {
  if (rule.purl !== undefined) {
    if (!pkg.purl) return false;
    const ruleHasVersion = purlBase(rule.purl, true).includes('@');
    if (purlBase(pkg.purl, ruleHasVersion) !== purlBase(rule.purl, ruleHasVersion)) return false;
  } else if (pkg.name !== rule.name) return false;
  return rule.version === undefined || pkg.version === rule.version;
}

const withVersion = (pkg: SbomPackage): SbomViolation =>
  pkg.version === undefined ? { name: pkg.name } : { name: pkg.name, version: pkg.version };

export function evaluateSbom(sbom: Sbom, policy: SbomPolicy): SbomVerdict {
  const disallowed = new Map((policy.disallowedLicenses ?? []).map((l) => [l.toLowerCase(), l]));
  const licenseViolations: SbomViolation[] = [];
  const packageViolations: SbomViolation[] = [];
  const seen = new Set<string>();
  for (const pkg of sbom.packages) {
    for (const id of pkg.licenses) {
      if (!disallowed.has(id.toLowerCase())) continue;
      const v = { ...withVersion(pkg), license: id };
      const key = JSON.stringify(v);
      if (!seen.has(key)) licenseViolations.push(v);
      seen.add(key);
    }
    if ((policy.disallowedPackages ?? []).some((rule) => matches(pkg, rule))) {
      const v = withVersion(pkg);
      const key = `p${JSON.stringify(v)}`;
      if (!seen.has(key)) packageViolations.push(v);
      seen.add(key);
    }
  }
  const show = (v: SbomViolation) =>
    `${v.name}${v.version ? `@${v.version}` : ''}${v.license ? ` (${v.license})` : ''}`;
  if (licenseViolations.length > 0)
    return {
      reason: 'disallowed-license',
      message: `the SBOM has packages under a disallowed licence: ${licenseViolations.slice(0, 10).map(show).join(', ')}`,
      licenseViolations,
      packageViolations,
    };
  if (packageViolations.length > 0)
    return {
      reason: 'disallowed-package',
      message: `the SBOM lists disallowed packages: ${packageViolations.slice(0, 10).map(show).join(', ')}`,
      licenseViolations,
      packageViolations,
    };
  return {
    reason: 'ok',
    message: `the SBOM's ${sbom.packages.length} ${sbom.packages.length === 1 ? 'package breaks' : 'packages break'} no licence or package rule`,
    licenseViolations,
    packageViolations,
  };
}
