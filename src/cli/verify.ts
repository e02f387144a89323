/** `vouch verify <ref>`: decide whether one image may run, and say why. */
import type { Command } from 'commander';
import { composeConfig } from '../config/compose.js';
import { buildRuntime } from '../config/runtime.js';
import { CONTAINER_VERIFIER } from '../engine/reports.js';
import type { Decision } from '../engine/types.js';
import { VouchError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { decisionJson, decisionText } from './decision-output.js';
import { ExitCode } from './io.js';
import { addTrustOptions, trustFlagsFrom } from './trust-options.js';

/** Denied because nothing could be checked (deadline, unreachable servers) is "could not complete". */
function exitForDenial(d: Decision): ExitCode {
  const failing = d.reports.filter((r) => r.outcome !== 'verified' && r.verifier !== CONTAINER_VERIFIER);
  const onlyInconclusive = failing.length > 0 && failing.every((r) => r.outcome === 'inconclusive');
  return onlyInconclusive && !d.reports.some((r) => r.outcome === 'verified')
    ? ExitCode.Incomplete
    : ExitCode.Denied;
}

export function register(program: Command): void {
  addTrustOptions(
    program
      .command('verify')
      .argument('<reference>', 'image reference (registry/repo:tag, …@sha256:…, or oci:<dir>[:tag|@digest])')
      .description('verify the artifacts attached to an image against the trust policy')
      .option('-o, --output <format>', 'text or json', 'text')
      .option('--timeout <ms>', 'deadline of the whole decision in milliseconds', (v) => Number(v)),
  ).action(async (reference: string, opts: Record<string, unknown>) => {
    const output = String(opts.output);
    if (output !== 'text' && output !== 'json')
      throw new VouchError('USAGE', `unknown output format "${output}" (text or json)`);
    const loaded = await composeConfig({
      ...(typeof opts.config === 'string' ? { configFile: opts.config } : {}),
      flags: trustFlagsFrom(opts),
    });
    const logger = createLogger({ level: process.env.VOUCH_LOG_LEVEL ?? 'warn' });
    const runtime = await buildRuntime(loaded.config, { baseDir: loaded.baseDir, logger });
    try {
      const timeoutMs =
        typeof opts.timeout === 'number' && opts.timeout > 0 ? opts.timeout : loaded.config.engine.timeoutMs;
      const decision = await runtime.engine.decide(reference, { signal: AbortSignal.timeout(timeoutMs) });
      process.stdout.write(
        output === 'json' ? `${JSON.stringify(decisionJson(decision), null, 2)}\n` : decisionText(decision),
      );
      process.exitCode = decision.allowed ? ExitCode.Allowed : exitForDenial(decision);
    } finally {
      await runtime.close();
    }
  });
}
