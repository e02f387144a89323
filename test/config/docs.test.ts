/**
 * docs/configuration.md is generated from the config schema (`npm run docs:config`). These tests
 * keep it honest: the committed file equals a fresh rendering, every field has a meaning, and the
 * example file in it validates against the same schema.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { EXAMPLE_CONFIG, renderConfigDocs } from '../../scripts/gen-config-docs.js';
import { validateConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { parseServerConfig } from '../../src/server/config.js';

const docPath = new URL('../../docs/configuration.md', import.meta.url);

/** The table rows: `| \`path\` | type | default | meaning |` split into cells (escaped `\|` kept). */
function tableRows(markdown: string): Array<{ path: string; meaning: string }> {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim());
      return { path: (cells[0] ?? '').replace(/`/g, ''), meaning: cells[cells.length - 1] ?? '' };
    });
}

/** The YAML block under `## Example`. */
function exampleBlock(markdown: string): string {
  const m = /## Example\n[\s\S]*?```yaml\n([\s\S]*?)```/.exec(markdown);
  assert.ok(m?.[1], 'docs/configuration.md has a ```yaml block under ## Example');
  return m[1];
}

describe('docs/configuration.md', () => {
  const rendered = renderConfigDocs();

  it('when regenerated, equals the committed file (run `npm run docs:config` after a schema change)', async () => {
    const committed = await readFile(docPath, 'utf8');
    assert.equal(committed, rendered);
  });

  it('has a row for every field, each with a meaning', () => {
    const rows = tableRows(rendered);
    const paths = rows.map((r) => r.path);
    for (const expected of [
      'version',
      'registries.credentials[].passwordFile',
      'verifiers.notation.trustStores.tsa',
      'verifiers.cosign.policies[].identities[].subjectRegExp',
      'verifiers.cosign.tuf.initialRoot',
      'verifiers.atproto.cacheTtlSeconds',
      'policy.rules[].require[].artifacts',
      'engine.timeoutMs',
      'cache.redis.keyPrefix',
      'server',
    ]) {
      assert.ok(paths.includes(expected), `no row for ${expected}`);
    }
    const top = Object.keys(configSchema.shape);
    assert.deepEqual(
      paths.filter((p) => !p.includes('.')),
      top,
    );
    const undocumented = rows.filter((r) => r.meaning === '').map((r) => r.path);
    assert.deepEqual(undocumented, [], `fields without a .describe(): ${undocumented.join(', ')}`);
  });

  it('links the server section to server.md', () => {
    const server = tableRows(rendered).find((r) => r.path === 'server');
    assert.match(server?.meaning ?? '', /\[server\.md\]\(server\.md\)/);
  });
});

describe('the example vouch.yaml', () => {
  const block = exampleBlock(renderConfigDocs());

  it('is the generator’s EXAMPLE_CONFIG', () => {
    assert.equal(block, EXAMPLE_CONFIG);
  });

  it('validates against the config schema, with every section and every verifier', () => {
    const config = validateConfig(parseYaml(block), 'docs/configuration.md example');
    assert.deepEqual(Object.keys(parseYaml(block) as object).sort(), Object.keys(configSchema.shape).sort());
    assert.ok(config.verifiers.notation && config.verifiers.cosign && config.verifiers.atproto);
    assert.deepEqual(
      config.policy.rules.map((r) => r.name),
      ['acme-prod', 'atcr', 'staging'],
    );
    assert.equal(config.cache.type, 'redis');
    assert.equal(config.registries.credentials[0]?.passwordFile, 'secrets/registry-password');
  });

  it('has a server section the server accepts', () => {
    const config = validateConfig(parseYaml(block));
    const server = parseServerConfig(config.server, 'example server');
    assert.equal(server.listen, '0.0.0.0:8443');
    assert.equal(server.tls.clientCaFile, 'tls/gatekeeper-ca.crt');
  });

  it('would be rejected with a misspelt field (the check is not vacuous)', () => {
    const broken = block.replace('discoveryDepth:', 'discoverDepth:');
    assert.throws(() => validateConfig(parseYaml(broken)), /discoverDepth/);
  });
});
