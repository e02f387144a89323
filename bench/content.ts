/**
 * Content verifiers' cost per document: parse + policy of a generated ~5 MB Trivy-shaped SARIF
 * report and a ~20 MB Syft-shaped SPDX SBOM. Prints time (median of 5) and the heap and RSS the
 * process reached, per document, in a fresh child for each so one does not inherit the other's heap.
 *
 *   source scripts/env.sh && node --import tsx bench/content.ts
 */
import { execFileSync } from 'node:child_process';
import { parseSbom } from '../src/verifiers/sbom/document.js';
import { evaluateSbom } from '../src/verifiers/sbom/evaluate.js';
import { evaluateVulnerabilityReport } from '../src/verifiers/vulnerability-report/evaluate.js';
import { parseSarif } from '../src/verifiers/vulnerability-report/sarif.js';
import { sarifReport, spdxSbom } from '../test/helpers/reports.js';

const SEVERITIES = ['low', 'medium', 'high', 'critical'];

function sarifOfAbout(bytes: number): Uint8Array {
  const one = sarifReport([{ cve: 'CVE-2024-10000', severity: 'high', pkg: 'openssl' }]).length;
  const n = Math.ceil(bytes / (one * 0.8));
  return sarifReport(
    Array.from({ length: n }, (_, i) => ({
      cve: `CVE-2024-${10000 + i}`,
      severity: SEVERITIES[i % 4] as string,
      pkg: `pkg-${i}`,
    })),
  );
}

function spdxOfAbout(bytes: number): Uint8Array {
  const one = spdxSbom([{ name: 'package-0', version: '1.0.0', license: 'MIT AND BSD-3-Clause' }]).length;
  const n = Math.ceil(bytes / (one * 0.585));
  return spdxSbom(
    Array.from({ length: n }, (_, i) => ({
      name: `package-${i}`,
      version: `1.${i}.0`,
      license: i % 7 ? 'MIT AND BSD-3-Clause' : 'Apache-2.0',
    })),
  );
}

function measure(kind: string): void {
  const doc = kind === 'sarif' ? sarifOfAbout(5 * 1024 * 1024) : spdxOfAbout(20 * 1024 * 1024);
  globalThis.gc?.();
  const before = process.memoryUsage();
  const times: number[] = [];
  let peakHeap = 0;
  let summary = '';
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    if (kind === 'sarif') {
      const v = evaluateVulnerabilityReport(parseSarif(doc), { disallowedSeverities: ['critical'] });
      summary = `${v.violations.length} violations`;
    } else {
      const s = parseSbom(doc, 'application/spdx+json');
      const v = evaluateSbom(s, {
        disallowedLicenses: ['GPL-3.0-only'],
        disallowedPackages: [{ name: 'package-5' }],
      });
      summary = `${s.packages.length} packages, ${v.packageViolations.length} violations`;
    }
    times.push(performance.now() - t0);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
  times.sort((a, b) => a - b);
  const mib = (n: number) => (n / 1048576).toFixed(1);
  console.log(
    `${kind}: ${mib(doc.length)} MiB document, ${summary}; median ${times[2]?.toFixed(0)} ms (min ${times[0]?.toFixed(0)}, max ${times[4]?.toFixed(0)}); heap before ${mib(before.heapUsed)} MiB, peak ${mib(peakHeap)} MiB; RSS ${mib(process.memoryUsage().rss)} MiB`,
  );
}

const only = process.argv[2];
if (only) measure(only);
else
  for (const kind of ['sarif', 'spdx'])
    process.stdout.write(
      execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/content.ts', kind], {
        encoding: 'utf8',
      }),
    );
