/**
 * Generates docs/configuration.md from the one config schema (zod → JSON Schema → one table, a row
 * per field, each field's `.describe()` text as its meaning), followed by a complete example file.
 * `npm run docs:config` writes it; test/config/docs.test.ts checks the committed file is current,
 * that no field lacks a description, and that the example validates.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema } from '../src/config/schema.js';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  additionalProperties?: JsonSchema | boolean;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((e) => `\`${JSON.stringify(e)}\``).join(' \\| ');
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  return s.type ?? 'any';
}

function objectOf(s: JsonSchema): JsonSchema | undefined {
  if (s.properties) return s;
  if (s.type === 'array' && s.items?.properties) return s.items;
  for (const alt of s.anyOf ?? s.oneOf ?? []) {
    const o = objectOf(alt);
    if (o) return o;
  }
  return undefined;
}

/**
 * A complete vouch.yaml: every section, every verifier. The test parses it with `validateConfig`
 * (and the `server` section with the server's own schema), so it cannot drift from the schema.
 */
export const EXAMPLE_CONFIG = `# vouch.yaml: relative paths are resolved against this file's folder.
version: 1

registries:
  insecure: []                      # e.g. [localhost:5000] for a local test registry
  caFiles: [certs/internal-ca.pem]  # beside the system CAs
  dockerConfig: true                # also read ~/.docker/config.json
  credentials:
    - host: registry.acme.internal
      username: vouch
      passwordFile: secrets/registry-password
  perHostConcurrency: 64

verifiers:
  notation:
    trustPolicyFile: notation/trustpolicy.json   # names the stores ca:acme and tsa:timestamps
    trustStores:
      ca:
        acme: [notation/acme-ca.pem]
      tsa:
        timestamps: [notation/tsa-roots/]
    revocation:
      timeoutMs: 2000
  cosign:
    keys: [cosign/cosign.pub]                    # images no scope below matches: key-based
    trustedRoot: cosign/trusted_root.json
    policies:
      - scope: "ghcr.io/acme/*"                  # keyless, from one release workflow
        identities:
          - subject: https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main
            issuer: https://token.actions.githubusercontent.com
        attestations:
          - predicateType: https://slsa.dev/provenance/v1
            conditions:
              - path: buildDefinition.buildType
                equals: https://actions.github.io/buildtypes/workflow/v1
  atproto:
    trustPolicyFile: atproto/trust-policy.yaml
    plcUrl: https://plc.directory

policy:
  default: deny
  rules:
    - name: acme-prod
      scope: "ghcr.io/acme/*"
      mode: enforce
      match: all                    # a notation signature and a cosign signature
      require:
        - verifier: notation
        - verifier: cosign
          artifacts: all
    - name: atcr
      scope: "atcr.io/**"
      require:
        - verifier: atproto
    - name: staging
      scope: ["ghcr.io/acme-staging/**", "registry.acme.internal/**"]
      mode: audit                   # allowed; what enforce would deny is reported
      match: any
      require:
        - verifier: notation
        - verifier: cosign

engine:
  concurrency: 16
  discoveryDepth: 2
  timeoutMs: 30000

cache:
  type: redis
  ttlSeconds: 300
  maxEntries: 10000
  maxBytes: 67108864
  redis:
    url: redis://redis:6379/0
    keyPrefix: "vouch:"

server:                             # see server.md
  listen: 0.0.0.0:8443
  tls:
    certFile: tls/server.crt
    keyFile: tls/server.key
    clientCaFile: tls/gatekeeper-ca.crt
`;

/** `docs/x.md` in a description becomes a link relative to docs/configuration.md. */
function linkDocs(text: string): string {
  return text.replace(/\bdocs\/([a-z0-9-]+\.md)\b/g, '[$1]($1)');
}

export function renderConfigDocs(): string {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: string[] = [];
  const walk = (s: JsonSchema, path: string) => {
    for (const [key, prop] of Object.entries(s.properties ?? {})) {
      const p = path ? `${path}.${key}` : key;
      const isList = prop.type === 'array';
      const def = prop.default === undefined ? '' : `\`${JSON.stringify(prop.default)}\``;
      const desc = linkDocs((prop.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' '));
      rows.push(`| \`${p}\` | ${typeOf(prop)} | ${def} | ${desc} |`);
      const child = objectOf(prop);
      if (child) walk(child, isList ? `${p}[]` : p);
    }
  };
  walk(root, '');
  return [
    '# Configuration reference',
    '',
    '<!-- generated by `npm run docs:config` from src/config/schema.ts; do not edit by hand -->',
    '',
    'vouch reads one YAML file, `vouch.yaml` (`--config FILE`), validated by one schema. Relative',
    "paths are resolved against the file's folder. Unknown fields are errors, and every error names",
    'the path and the problem, e.g. `verifiers.notation.trustStores.ca.acme: ./acme.pem not found`.',
    'Check a file with `vouch config validate FILE`; show the effective configuration (flags >',
    'environment > file > defaults, secrets redacted) with `vouch config print`.',
    '',
    '| field | type | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    'The `server` section is validated by the server and documented in [server.md](server.md).',
    '',
    '## Example',
    '',
    'A complete `vouch.yaml` with every section (the files it names are yours to provide). The',
    'notation trust policy and the ATCR trust policy it points to are described in',
    '[policy.md](policy.md) and [atproto.md](atproto.md).',
    '',
    '```yaml',
    EXAMPLE_CONFIG.trimEnd(),
    '```',
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('gen-config-docs.ts')) {
  writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigDocs());
  console.log('wrote docs/configuration.md');
}
