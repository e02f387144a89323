/**
 * The source a release is built from: the commit (clean work tree, or `--allow-dirty`, then marked
 * in the provenance), its time as SOURCE_DATE_EPOCH, and a staging copy of exactly the files of
 * the commit (git archive), so that the build neither reads nor writes the checkout's dist/.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';

export interface SourceState {
  readonly root: string;
  readonly commit: string;
  readonly ref: string;
  /** seconds since the epoch: the commit's committer time, unless SOURCE_DATE_EPOCH is set */
  readonly sourceDateEpoch: number;
  /** uncommitted changes (tracked or untracked) the release was built with */
  readonly dirty: readonly string[];
}

export class ReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReleaseError';
  }
}

function git(root: string, args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
}

export function readSourceState(root: string, allowDirty: boolean): SourceState {
  let commit: string;
  try {
    commit = git(root, ['rev-parse', 'HEAD']);
  } catch {
    throw new ReleaseError(`${root} is not a git checkout with a commit: a release is built from a commit`);
  }
  const dirty = git(root, ['status', '--porcelain', '--untracked-files=all'])
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (dirty.length > 0 && !allowDirty)
    throw new ReleaseError(
      `the work tree has ${dirty.length} uncommitted change(s) (first: ${dirty[0]?.trim()}); commit them, or pass --allow-dirty (the provenance then says so)`,
    );
  let ref = 'HEAD';
  try {
    ref = git(root, ['symbolic-ref', '-q', 'HEAD']);
  } catch {
    // detached HEAD (CI checks out a commit): the commit is the ref
  }
  const fromEnv = process.env.SOURCE_DATE_EPOCH;
  const sourceDateEpoch =
    fromEnv && /^\d+$/.test(fromEnv)
      ? Number(fromEnv)
      : Number(git(root, ['log', '-1', '--format=%ct', 'HEAD']));
  return { root, commit, ref, sourceDateEpoch, dirty };
}

/**
 * Copies the release's source into `dir`: the commit's files (git archive), or with --allow-dirty
 * the work tree's tracked and untracked-but-not-ignored files; node_modules is linked, not copied.
 */
export function stageSource(state: SourceState, dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (state.dirty.length === 0) {
    const tar = execFileSync('git', ['archive', '--format=tar', state.commit], {
      cwd: state.root,
      maxBuffer: 512 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
  } else {
    const files = git(state.root, ['ls-files', '-co', '--exclude-standard', '-z'])
      .split('\0')
      .filter(Boolean);
    for (const f of files) {
      const from = path.join(state.root, f);
      try {
        cpSync(from, path.join(dir, f), { dereference: false, recursive: false });
      } catch (err) {
        // a tracked file deleted in the work tree is not part of the dirty build
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  symlinkSync(path.join(state.root, 'node_modules'), path.join(dir, 'node_modules'));
}
