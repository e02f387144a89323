/**
 * The format list (src/formats/index.ts) is the one place formats are named: the config schema's
 * `verifiers` section, the trust flags of `vouch verify`/`serve`/`config`, the verifiers built and
 * `vouch sign --format` all follow it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { addTrustOptions, trustFlagsFrom } from '../../src/cli/trust-options.js';
import { composeConfig } from '../../src/config/compose.js';
import { configFromFlags } from '../../src/config/flags.js';
import { validateConfig } from '../../src/config/load.js';
import { buildVerifiers } from '../../src/config/runtime.js';
import { verifiersSchema } from '../../src/config/schema.js';
import { attributeName } from '../../src/formats/flags.js';
import { FORMATS, type FormatDescriptor, formatNamed } from '../../src/formats/index.js';

const formats: readonly FormatDescriptor[] = FORMATS;

describe('the format list', () => {
  it('names the five formats once each, in the order of the config section', () => {
    const names = formats.map((f) => f.name);
    assert.deepEqual(names, ['notation', 'cosign', 'atproto', 'vulnerabilityReport', 'sbom']);
    assert.deepEqual(Object.keys(verifiersSchema.shape), names);
  });

  it('gives each section its schema and summary (docs/configuration.md reads them)', () => {
    for (const format of formats) {
      const section = verifiersSchema.shape[format.name as keyof typeof verifiersSchema.shape];
      assert.equal(section.description, format.summary, format.name);
      assert.equal(section.unwrap(), format.configSchema, format.name);
    }
  });

  it('finds a format by name, and nothing for an unknown one', () => {
    assert.equal(formatNamed('cosign')?.name, 'cosign');
    assert.equal(formatNamed('gpg'), undefined);
  });
});

describe('trust flags, declared once per format', () => {
  const options = formats.flatMap((f) => (f.flags?.options ?? []).map((o) => ({ format: f.name, ...o })));

  it('no two formats declare the same flag, nor one of the shared flags', () => {
    const names = ['config', 'insecureRegistry', ...options.map((o) => attributeName(o.flag))];
    assert.deepEqual(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
    );
  });

  it('are the options of a command that adds them, in the list order', () => {
    const cmd = addTrustOptions(new Command('verify'));
    assert.deepEqual(
      cmd.options.map((o) => o.long),
      ['--config', '--insecure-registry', ...options.map((o) => o.flag.split(' ')[0])],
    );
  });

  it('configure nothing when none is given', () => {
    for (const format of formats) assert.equal(format.flags?.toConfig({}), undefined, format.name);
    assert.deepEqual(configFromFlags({}), { fragment: {}, verifierNames: [] });
  });

  it('become sections the formats’ own schemas accept, paths made absolute', () => {
    const cmd = addTrustOptions(new Command('verify')).exitOverride();
    cmd.parse(
      [
        ...['--notation-dir', 'notation', '--key', 'a.pub', '--key', 'b.pub', '--threshold', '2'],
        ...['--attestation-type', 'https://slsa.dev/provenance/v1', '--atproto-policy', 'p.yaml'],
        ...['--plc-url', 'https://plc.example', '--allow-private-network'],
      ],
      { from: 'user' },
    );
    const { fragment, verifierNames } = configFromFlags(trustFlagsFrom(cmd.opts()));
    assert.deepEqual(verifierNames, ['notation', 'cosign', 'atproto']);
    assert.deepEqual(fragment.verifiers, {
      notation: { configDir: path.resolve('notation') },
      cosign: {
        keys: [path.resolve('a.pub'), path.resolve('b.pub')],
        threshold: 2,
        attestations: [{ predicateType: 'https://slsa.dev/provenance/v1' }],
      },
      atproto: {
        trustPolicyFile: path.resolve('p.yaml'),
        plcUrl: 'https://plc.example',
        allowPrivateNetwork: true,
      },
    });
    const config = validateConfig(fragment);
    assert.equal(config.verifiers.cosign?.threshold, 2);
  });

  it('turn keyless flags into one cosign identity', async () => {
    const { config } = await composeConfig({
      flags: {
        certificateIdentity: 'https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main',
        certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
        certificateGithubWorkflowRepository: 'acme/api',
        trustedRoot: 'trusted_root.json',
        insecureIgnoreSct: true,
      },
    });
    assert.deepEqual(config.verifiers.cosign?.identities, [
      {
        subject: 'https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main',
        issuer: 'https://token.actions.githubusercontent.com',
        githubWorkflowRepository: 'acme/api',
      },
    ]);
    assert.equal(config.verifiers.cosign?.trustedRoot, path.resolve('trusted_root.json'));
    assert.equal(config.verifiers.cosign?.ignoreSct, true);
  });
});

describe('building the configured verifiers', () => {
  it('builds only the configured formats, in list order, with their names', async () => {
    const config = validateConfig({ verifiers: { sbom: {}, vulnerabilityReport: {} } });
    const verifiers = await buildVerifiers(config, process.cwd());
    assert.deepEqual(
      verifiers.map((v) => v.name),
      ['vulnerabilityReport', 'sbom'],
    );
  });

  it('has content verifiers require notation or cosign when no signature format is configured', async () => {
    const config = validateConfig({
      verifiers: { sbom: {}, vulnerabilityReport: { requireSignature: ['atproto'] } },
    });
    const [vulnerabilityReport, sbom] = await buildVerifiers(config, process.cwd());
    assert.deepEqual(sbom?.signedBy, ['notation', 'cosign']);
    assert.deepEqual(vulnerabilityReport?.signedBy, ['atproto']);
  });
});

describe('signers', () => {
  it('notation, cosign and atproto sign; notation and cosign also to a file', () => {
    assert.deepEqual(
      formats.filter((f) => f.signer).map((f) => f.name),
      ['notation', 'cosign', 'atproto'],
    );
    assert.deepEqual(
      formats.filter((f) => f.signer?.detached).map((f) => f.name),
      ['notation', 'cosign'],
    );
  });

  it('load their code only when asked', async () => {
    for (const format of formats) {
      if (!format.signer) continue;
      const signer = await format.signer.load();
      assert.equal(typeof signer.sign, 'function', format.name);
      assert.equal(typeof signer.signature, format.signer.detached ? 'function' : 'undefined', format.name);
    }
  });
});
