/**
 * The release assets, built in the staging copy of the source: the npm package tarball
 * (`npm pack`) and a single-file executable of the CLI for linux-x64 (Node's single executable
 * applications: the CLI bundled as one CommonJS script, a SEA blob from
 * `node --experimental-sea-config`, injected into a copy of this Node with postject).
 * Both are byte-for-byte reproducible from the same commit: SOURCE_DATE_EPOCH is the commit time,
 * npm pack writes fixed mtimes in a fixed order, esbuild's output depends only on its input (paths
 * are relative to the staging directory), and the SEA blob carries no code cache or snapshot
 * and names its script by a relative path.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ReleaseError } from './stage.js';

export interface Asset {
  /** file name in the output directory, also the tag of its OCI artifact */
  readonly name: string;
  readonly file: string;
  readonly mediaType: string;
  readonly sha256: string;
  readonly size: number;
  /** what the SBOM describes: the npm package, or the executable (the package plus Node) */
  readonly kind: 'npm-package' | 'executable';
}

export function describeFile(file: string, mediaType: string, kind: Asset['kind']): Asset {
  const bytes = readFileSync(file);
  return {
    name: path.basename(file),
    file,
    mediaType,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    kind,
  };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, what: string): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new ReleaseError(`${what} failed: ${(e.stderr || e.stdout || e.message).trim().slice(-2000)}`);
  }
}

export interface BuildOptions {
  readonly stage: string;
  readonly out: string;
  readonly version: string;
  readonly sourceDateEpoch: number;
}

/** Compiles and bundles in the staging directory, then writes the tarball and the executable. */
export function buildAssets(options: BuildOptions): Asset[] {
  const { stage, out } = options;
  const env = { ...process.env, SOURCE_DATE_EPOCH: String(options.sourceDateEpoch), NODE_ENV: 'production' };
  // the version the release announces is the package's version
  const pkgFile = path.join(stage, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string };
  if (pkg.version !== options.version) {
    pkg.version = options.version;
    writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
    const versionTs = path.join(stage, 'src', 'version.ts');
    const text = readFileSync(versionTs, 'utf8');
    writeFileSync(versionTs, text.replace(/(['"])\d+\.\d+\.\d+[^'"]*\1/, `'${options.version}'`));
  }
  const bin = (name: string) => path.join(stage, 'node_modules', '.bin', name);
  run(bin('tsc'), ['-p', 'tsconfig.build.json'], stage, env, 'TypeScript build');
  run(process.execPath, ['scripts/bundle-cli.mjs'], stage, env, 'CLI bundle');

  const packed = run('npm', ['pack', '--json', '--pack-destination', out], stage, env, 'npm pack');
  const [info] = JSON.parse(packed) as Array<{ filename: string }>;
  if (!info) throw new ReleaseError('npm pack wrote no tarball');
  const tarball = describeFile(
    path.join(out, info.filename),
    'application/vnd.npm.package.tar+gzip',
    'npm-package',
  );

  // single-file executable: one CommonJS script, no code cache or snapshot (both differ per run)
  const script = path.join(stage, 'dist', 'vouch-sea.cjs');
  run(process.execPath, ['scripts/bundle-cli.mjs', '--single', script], stage, env, 'single-file bundle');
  const seaConfig = path.join(stage, 'dist', 'sea-config.json');
  const blob = path.join(stage, 'dist', 'vouch-sea.blob');
  writeFileSync(
    seaConfig,
    JSON.stringify({
      // relative to the staging directory: the blob records the main script's path as given
      main: path.relative(stage, script),
      output: path.relative(stage, blob),
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
    }),
  );
  run(process.execPath, ['--experimental-sea-config', seaConfig], stage, env, 'SEA blob');
  const exe = path.join(out, `vouch-${options.version}-linux-x64`);
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  run(
    bin('postject'),
    [exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'],
    stage,
    env,
    'postject',
  );
  return [tarball, describeFile(exe, 'application/octet-stream', 'executable')];
}
