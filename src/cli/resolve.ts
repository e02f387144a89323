/**
 * `vouch resolve <ref>`: prints the digest-pinned reference (`registry/repo@sha256:…`, or
 * `oci:<dir>@sha256:…`), the form a deployment should name. Exit codes as `vouch discover`.
 */
import type { Command } from 'commander';
import { addTargetOptions, type TargetOptions, withResolvedTarget } from './discover.js';

export function register(program: Command): void {
  addTargetOptions(
    program
      .command('resolve')
      .argument('<reference>', 'image reference (registry/repo:tag, …@sha256:…, or oci:<dir>[:tag|@digest])')
      .description(
        'print the digest-pinned reference of an image\n' +
          'exit codes: 0 resolved, 2 bad reference, 3 not found / unreachable / auth refused',
      ),
  ).action(async (reference: string, opts: TargetOptions) => {
    await withResolvedTarget(reference, opts, async ({ pinned }) => {
      process.stdout.write(`${pinned}\n`);
    });
  });
}
