/**
 * Fuzzing configuration and trust policies: vouch.yaml (as text through the file reader, and as
 * values through the validator), the server section and the environment, notation
 * trustpolicy.json, the ATCR trust policy, and the Ratify plugin's stdin. Seeds: examples/vouch.yaml
 * and policies written here. Properties: only CONFIG_INVALID (or the Ratify plugin's coded error)
 * escapes; a config file over 1 MiB is refused without being parsed; YAML alias bombs are bounded.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { readConfigInput, validateConfig } from '../../src/config/load.js';
import { parsePluginInput } from '../../src/ratify/protocol.js';
import { registriesFromStore } from '../../src/ratify/store.js';
import { parseListen, parseServerConfig } from '../../src/server/config.js';
import { configFromEnv } from '../../src/server/env.js';
import { loadAtprotoTrust } from '../../src/trust/atproto/load.js';
import { loadNotationTrust } from '../../src/trust/notation/load.js';
import { parseTrustPolicy } from '../../src/trust/notation/policy.js';
import {
  arbitraryBytes,
  check,
  checkAsync,
  hostileValue,
  mutatedBytes,
  mutatedJson,
  outcome,
  outcomeAsync,
  recordFixed,
} from './harness.js';

const CONFIG = ['VouchError:CONFIG_INVALID'];
const EXAMPLE_TEXT = readFileSync(new URL('../../examples/vouch.yaml', import.meta.url), 'utf8');
const EXAMPLE = parseYaml(EXAMPLE_TEXT) as Record<string, unknown>;
const FULL = {
  ...EXAMPLE,
  verifiers: {
    ...(EXAMPLE.verifiers as object),
    cosign: {
      keys: ['cosign.pub'],
      identities: [
        {
          issuer: 'https://token.actions.githubusercontent.com',
          subjectRegExp: '^https://github\\.com/acme/.*$',
        },
      ],
    },
    atproto: { trustPolicy: { version: '1.0', trustedDIDs: {}, policies: [] } },
  },
  server: { listen: '127.0.0.1:8443', budgets: { validateMs: 2000 }, limits: { bodyBytes: 65536 } },
  cache: { ttlSeconds: 60 },
};

const NOTATION_POLICY = {
  version: '1.0',
  trustPolicies: [
    {
      name: 'prod',
      registryScopes: ['registry.example/app', 'registry.example/api'],
      signatureVerification: { level: 'strict', override: { revocation: 'log' }, verifyTimestamp: 'always' },
      trustStores: ['ca:acme', 'tsa:timestamps'],
      trustedIdentities: ['x509.subject: C=US, ST=WA, L=Seattle, O=acme, CN=signer'],
    },
    { name: 'rest', registryScopes: ['*'], signatureVerification: { level: 'skip' } },
  ],
};

const ATCR_POLICY = {
  version: '1.0',
  trustedDIDs: {
    'did:plc:abcdefghijklmnopqrstuvwx': {
      name: 'ci',
      validFrom: '2025-01-01T00:00:00Z',
      expiresAt: '2030-01-01T00:00:00Z',
    },
    'did:web:hold.example.com': null,
  },
  policies: [
    {
      name: 'prod',
      scope: 'atcr.io/acme/*',
      require: { signature: true },
      trustedDIDs: ['did:plc:abcdefghijklmnopqrstuvwx'],
      action: 'enforce',
    },
    { name: 'rest', scope: '*', require: { signature: false }, action: 'audit' },
  ],
  trustedHolds: ['did:web:hold.example.com'],
};

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vouch-fuzz-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** YAML-ish text: arbitrary, an edited example, or YAML features (anchors, tags, documents). */
const yamlText = fc.oneof(
  arbitraryBytes(400).map((b) => Buffer.from(b).toString('utf8')),
  mutatedBytes(Buffer.from(EXAMPLE_TEXT)).map((b) => Buffer.from(b).toString('utf8')),
  fc
    .array(
      fc.constantFrom(
        'a: &x [1, 2]\n',
        'b: *x\n',
        'c: !!binary aGk=\n',
        '---\n',
        '? [k]\n: v\n',
        'd: !!set {x}\n',
        '<<: *x\n',
        'e: "\\u0000"\n',
        'verifiers: {}\n',
        'policy: ~\n',
        '\t- x\n',
        'f: 1e999\n',
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join('')),
);

describe('when vouch.yaml is fuzzed', () => {
  it('the example validates', () => {
    assert.ok(validateConfig(EXAMPLE, 'vouch.yaml'));
  });

  it('arbitrary and edited YAML text: the reader and validator throw only CONFIG_INVALID', async () => {
    const file = path.join(dir, 'vouch.yaml');
    await checkAsync(
      'vouch.yaml: text',
      [yamlText],
      async (text) => {
        await writeFile(file, text);
        const read = await outcomeAsync(() => readConfigInput(file), CONFIG);
        if (read === 'ok') {
          const { raw } = await readConfigInput(file);
          outcome(() => validateConfig(raw, 'vouch.yaml'), CONFIG);
        }
      },
      1,
    );
  });

  it('edited config values throw only CONFIG_INVALID', () => {
    check(
      'vouch.yaml: mutated values',
      [mutatedJson(FULL)],
      (raw) => {
        outcome(() => validateConfig(raw, 'vouch.yaml'), CONFIG);
        outcome(() => parseServerConfig((raw as { server?: unknown } | null)?.server, 'vouch.yaml'), CONFIG);
      },
      3,
    );
  });

  it('a YAML alias bomb is refused, within bounds', async () => {
    const file = path.join(dir, 'bomb.yaml');
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    await writeFile(file, `${lines.join('\n')}\n`);
    const started = Date.now();
    assert.equal(await outcomeAsync(() => readConfigInput(file), CONFIG), 'VouchError:CONFIG_INVALID');
    assert.ok(Date.now() - started < 5000);
  });

  it('a config file over 1 MiB is refused with CONFIG_INVALID without being parsed', async () => {
    const file = path.join(dir, 'big.yaml');
    await checkAsync(
      'vouch.yaml: size limit',
      [fc.integer({ min: 1, max: 4096 })],
      async (extra) => {
        await writeFile(file, Buffer.alloc(1024 * 1024 + extra, 0x5b)); // "[[[[…": would be a deep parse
        const started = Date.now();
        assert.equal(await outcomeAsync(() => readConfigInput(file), CONFIG), 'VouchError:CONFIG_INVALID');
        assert.ok(Date.now() - started < 1000);
      },
      0.05,
    );
  });

  // Regression (found by 'server: listen and env', seed 20261207): server.listen and probeListen
  // were any non-empty string, so a bad one passed validation and parseListen's RangeError came at
  // start-up. The schema now checks them (CONFIG_INVALID); parseListen keeps its contract.
  it('server.listen: what validates parses; the rest is CONFIG_INVALID', () => {
    const listen = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('[::1]:8443', '0.0.0.0:99999', ':80', 'host:', '', '8443', 'a:b:c', '127.0.0.1:65535'),
    );
    check('server: listen', [listen, fc.constantFrom('listen', 'probeListen')], (value, field) => {
      if (outcome(() => parseServerConfig({ [field]: value }, 'vouch.yaml'), CONFIG) === 'ok') {
        const { port } = parseListen(value);
        assert.ok(Number.isInteger(port) && port >= 0 && port <= 65535);
      }
    });
  });

  it('the environment: only CONFIG_INVALID escapes', () => {
    const env = fc.dictionary(
      fc.constantFrom(
        'VOUCH_LISTEN',
        'TRUST_POLICY_PATH',
        'VOUCH_SERVER_BUDGETS_VALIDATE_MS',
        'VOUCH_CACHE_TTL_SECONDS',
        'VOUCH_LOG_LEVEL',
        'REDIS_URL',
        'VOUCH_X',
      ),
      fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('10s', '-1', '1e999', 'true', '')),
    );
    check('server: env', [env], (vars) => {
      outcome(() => configFromEnv(vars), CONFIG);
    });
  });
});

describe('when trust policies are fuzzed', () => {
  it('notation trustpolicy.json: the seed parses, edited ones throw only CONFIG_INVALID', () => {
    assert.equal(parseTrustPolicy(NOTATION_POLICY, 'trustpolicy.json').statements.length, 2);
    check(
      'trustpolicy.json: mutated',
      [fc.oneof(mutatedJson(NOTATION_POLICY), hostileValue())],
      (doc) => {
        outcome(() => parseTrustPolicy(doc, 'trustpolicy.json'), CONFIG);
      },
      3,
    );
  });

  // Regression (found by 'trustpolicy.json: mutated', seed 20261207 with 1000 runs): names were
  // looked up with `in` / plain indexing, which also find Object.prototype's members. An override of
  // "__proto__" or "constructor" threw a raw TypeError; worse, a level named "constructor" or
  // "toString" was accepted with no actions at all, so no check was enforced or even logged.
  it('prototype member names are not levels or checks', () => {
    const statement = NOTATION_POLICY.trustPolicies[0]!;
    const withVerification = (signatureVerification: unknown) => ({
      ...NOTATION_POLICY,
      trustPolicies: [{ ...statement, signatureVerification }],
    });
    const cases = [
      withVerification({ level: 'constructor' }),
      withVerification({ level: 'toString' }),
      withVerification({ level: '__proto__' }),
      withVerification({ level: 'strict', override: JSON.parse('{"__proto__": null}') }),
      withVerification({ level: 'strict', override: { constructor: 'log' } }),
      withVerification({ level: 'strict', override: { hasOwnProperty: 'skip' } }),
    ];
    for (const doc of cases)
      assert.equal(
        outcome(() => parseTrustPolicy(doc, 'trustpolicy.json'), CONFIG),
        'VouchError:CONFIG_INVALID',
      );
    // the same lookup in vouch.yaml: a rule requiring verifier "constructor" named no configured verifier
    const rule = { name: 'x', scope: '*', require: [{ verifier: 'constructor' }] };
    assert.equal(
      outcome(() => validateConfig({ verifiers: {}, policy: { default: 'deny', rules: [rule] } }), CONFIG),
      'VouchError:CONFIG_INVALID',
    );
    recordFixed('trust policy: prototype names regression', cases.length + 1);
  });

  it('a trustpolicy.json over 1 MiB is refused with CONFIG_INVALID', async () => {
    const file = path.join(dir, 'trustpolicy.json');
    await writeFile(file, `{"version":"1.0","trustPolicies":[],"pad":"${'x'.repeat(1024 * 1024)}"}`);
    const result = await outcomeAsync(
      () => loadNotationTrust({ trustPolicyFile: file } as never, { baseDir: dir }),
      CONFIG,
    );
    assert.equal(result, 'VouchError:CONFIG_INVALID');
  });

  it('the ATCR trust policy: the seed loads, edited ones throw only CONFIG_INVALID', async () => {
    assert.equal(
      (await loadAtprotoTrust({ trustPolicy: ATCR_POLICY }, { baseDir: dir })).policy.policies.length,
      2,
    );
    await checkAsync(
      'atcr policy: mutated',
      [fc.oneof(mutatedJson(ATCR_POLICY), hostileValue())],
      async (doc) => {
        await outcomeAsync(() => loadAtprotoTrust({ trustPolicy: doc }, { baseDir: dir }), CONFIG);
      },
      2,
    );
  });
});

describe('when the Ratify plugin stdin is fuzzed', () => {
  const input = {
    config: { name: 'vouch-notation', artifactTypes: 'application/vnd.cncf.notary.signature' },
    storeConfig: { version: '1.0.0', name: 'oras', store: { name: 'oras', useHttp: true } },
    referenceDesc: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${'a'.repeat(64)}`,
      size: 10,
      artifactType: 'application/vnd.cncf.notary.signature',
    },
  };
  it('arbitrary and edited stdin, and the store config in it, throw only RatifyPluginError', () => {
    check(
      'ratify stdin: arbitrary and mutated',
      [
        fc.oneof(
          arbitraryBytes().map((b) => Buffer.from(b).toString('utf8')),
          mutatedJson(input).map((v) => JSON.stringify(v) ?? ''),
        ),
      ],
      (stdin) => {
        if (outcome(() => parsePluginInput(stdin), ['RatifyPluginError']) !== 'ok') return;
        const parsed = parsePluginInput(stdin);
        outcome(() => registriesFromStore(parsed.storeConfig.store, 'registry.test'), ['RatifyPluginError']);
      },
      2,
    );
  });
});
