/**
 * `npm run release -- --out DIR [--version V] [--key cosign.key | --identity-token-file F]
 *   [--push REF|oci:DIR] [--insecure-registry HOST] [--allow-dirty] [--repository URL]
 *   [--builder-id ID] [--unsigned]`
 *
 * Builds vouch's release from the current commit (a staging copy of it: the checkout's dist/ is
 * neither read nor written): the npm tarball and the linux-x64 single-file executable
 * (byte-reproducible), a CycloneDX SBOM and a SLSA v1 provenance statement for each, then signs
 * each asset with the release key (cosign sigstore bundle) and attests its SBOM and provenance,
 * in a staging OCI layout; with --push, copies that to a new layout or pushes it to a registry.
 * The container image needs an image builder (docker or buildah); without one it is skipped and
 * the summary says so. `--unsigned` builds the assets, SBOMs and provenance only (the
 * reproducibility check); it never publishes.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decryptCosignKey } from '../src/sign/cosign/index.js';
import { type Asset, buildAssets } from './assets.js';
import { writeProvenance } from './provenance.js';
import { checkDestination, publish, type ReleaseSigner, signIntoLayout } from './publish.js';
import { packageSbom, writeAssetSbom } from './sbom.js';
import { ReleaseError, readSourceState, stageSource } from './stage.js';

const ROOT = path.resolve(import.meta.dirname, '..');

interface SignerFlags {
  readonly unsigned?: boolean | undefined;
  readonly key?: string | undefined;
  readonly 'identity-token-file'?: string | undefined;
  readonly 'fulcio-url'?: string | undefined;
  readonly 'rekor-url'?: string | undefined;
}

function readSigner(values: SignerFlags): ReleaseSigner | undefined {
  if (values.unsigned) return undefined;
  const tokenFile = values['identity-token-file'];
  const keyFile = values.key ?? process.env.VOUCH_RELEASE_KEY;
  if (typeof tokenFile === 'string') {
    if (keyFile) throw new ReleaseError('--identity-token-file (keyless) and --key exclude each other');
    return {
      keyless: {
        identityToken: readFileSync(tokenFile, 'utf8').trim(),
        fulcioUrl: String(values['fulcio-url'] ?? 'https://fulcio.sigstore.dev'),
        rekorUrl: String(values['rekor-url'] ?? 'https://rekor.sigstore.dev'),
      },
    };
  }
  if (!keyFile)
    throw new ReleaseError(
      'no release key: give --key cosign.key (or $VOUCH_RELEASE_KEY) with $COSIGN_PASSWORD, or --identity-token-file for keyless signing',
    );
  let text: string;
  try {
    text = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new ReleaseError(`cannot read the release key ${keyFile}: ${(err as Error).message}`);
  }
  if (text.includes('BEGIN PRIVATE KEY')) return { privateKeyPem: text };
  const password = process.env.COSIGN_PASSWORD;
  if (password === undefined) throw new ReleaseError(`${keyFile} is a cosign key: set COSIGN_PASSWORD`);
  return { privateKeyPem: decryptCosignKey(text, password) };
}

/** The container image asset: only where an image builder exists (none on the CI machine). */
function imageBuilder(): string | undefined {
  // `docker info` needs a running engine: a docker CLI alone cannot build
  for (const [tool, probe] of [
    ['docker', 'info'],
    ['buildah', '--version'],
  ] as const) {
    try {
      execFileSync(tool, [probe], { stdio: 'ignore', timeout: 10_000 });
      return tool;
    } catch {
      // not installed
    }
  }
  return undefined;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      version: { type: 'string' },
      key: { type: 'string' },
      'identity-token-file': { type: 'string' },
      'fulcio-url': { type: 'string' },
      'rekor-url': { type: 'string' },
      push: { type: 'string', multiple: true },
      'insecure-registry': { type: 'string', multiple: true },
      'allow-dirty': { type: 'boolean' },
      repository: { type: 'string' },
      'builder-id': { type: 'string' },
      unsigned: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.out) throw new ReleaseError('--out DIR is required (a new or empty directory)');
  const out = path.resolve(values.out);
  if (existsSync(out) && readdirSync(out).length > 0) throw new ReleaseError(`${out} is not empty`);
  if (values.unsigned && values.push)
    throw new ReleaseError('--unsigned builds assets only; it never publishes');
  const signer = readSigner(values);
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    repository?: { url?: string };
  };
  const version = values.version ?? pkg.version;
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version))
    throw new ReleaseError(`--version ${version} is not a semantic version`);
  const repository = values.repository ?? pkg.repository?.url?.replace(/^git\+/, '').replace(/\.git$/, '');
  if (!repository)
    throw new ReleaseError('no source repository: set package.json repository.url or --repository');
  const state = readSourceState(ROOT, values['allow-dirty'] === true);
  const destinations = values.push ?? [];
  // before the build: a destination that cannot take the release fails in seconds, not minutes
  for (const d of destinations) await checkDestination(d, values['insecure-registry'] ?? []);

  const work = mkdtempSync(path.join(tmpdir(), 'vouch-release-'));
  try {
    const stage = path.join(work, 'src');
    stageSource(state, stage);
    mkdirSync(out, { recursive: true });
    const assets: Asset[] = buildAssets({ stage, out, version, sourceDateEpoch: state.sourceDateEpoch });
    const bom = packageSbom(stage, state.sourceDateEpoch);
    const command = ['npm', 'run', 'release', '--', ...argv].join(' ');
    const builderId = values['builder-id'] ?? `${repository}/release`;
    const sboms = new Map<string, unknown>();
    const provenance = new Map<string, Record<string, unknown>>();
    for (const asset of assets) {
      sboms.set(asset.name, JSON.parse(readFileSync(writeAssetSbom(bom, asset, out), 'utf8')));
      provenance.set(
        asset.name,
        writeProvenance({ state, stage, repository, builderId, command, version }, asset, out),
      );
    }
    const builder = imageBuilder();
    const summary: Record<string, unknown> = {
      version,
      commit: state.commit,
      dirty: state.dirty.length > 0,
      sourceDateEpoch: state.sourceDateEpoch,
      assets: assets.map((a) => ({ name: a.name, sha256: a.sha256, size: a.size, mediaType: a.mediaType })),
      containerImage: builder
        ? `not built here: build it with ${builder} from the Dockerfile, then sign it with vouch sign --format notation`
        : 'skipped: no image builder (docker or buildah) on this machine',
    };
    if (signer) {
      const staging = path.join(work, 'layout');
      const input = {
        assets,
        sboms,
        provenance,
        signer,
        version,
        repository,
        commit: state.commit,
        sourceDateEpoch: state.sourceDateEpoch,
        staging,
      };
      const signed = await signIntoLayout(input);
      summary.signed = signed.map((s) => ({ tag: s.tag, manifest: s.manifest.digest }));
      const published: string[] = [];
      for (const d of destinations)
        published.push(await publish(input, d, values['insecure-registry'] ?? []));
      if (published.length > 0) summary.published = published;
    }
    writeFileSync(path.join(out, 'release.json'), `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`release: ${message}\n`);
  process.exitCode = err instanceof ReleaseError || (err as { name?: string }).name === 'VouchError' ? 2 : 1;
});
