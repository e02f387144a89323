import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { composeConfig } from '../../src/config/compose.js';
import { loadConfigFile, validateConfig } from '../../src/config/load.js';
import { redactConfig } from '../../src/config/redact.js';
import { isVouchError } from '../../src/errors.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vouch-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isVouchError(err, 'CONFIG_INVALID', 'USAGE'), `unexpected error ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the config to be rejected');
}

describe('vouch.yaml loading', () => {
  it('fills defaults for an empty file', async () => {
    const { config, baseDir } = await loadConfigFile(await file('empty.yaml', ''));
    assert.equal(config.policy.default, 'deny');
    assert.deepEqual(config.registries.insecure, []);
    assert.equal(config.engine.timeoutMs, 30_000);
    assert.equal(baseDir, dir);
  });

  it('names the path and the problem of a wrong type', async () => {
    const msg = await rejection(loadConfigFile(await file('t.yaml', 'engine:\n  concurrency: many\n')));
    assert.match(msg, /engine\.concurrency: /);
  });

  it('names unknown fields (typos are not ignored)', async () => {
    const msg = await rejection(loadConfigFile(await file('u.yaml', 'registries:\n  insecur: [a]\n')));
    assert.match(msg, /registries: unknown field\(s\) "insecur"/);
  });

  it('names a rule that requires a verifier that is not configured', async () => {
    const msg = await rejection(
      loadConfigFile(
        await file(
          'r.yaml',
          'policy:\n  rules:\n    - name: r\n      scope: "*"\n      require: [{verifier: cosign}]\n',
        ),
      ),
    );
    assert.match(msg, /policy\.rules\[0\]\.require\[0\]\.verifier: verifier "cosign" is not configured/);
  });

  it('rejects invalid YAML with the parser message', async () => {
    const msg = await rejection(loadConfigFile(await file('bad.yaml', 'a: [1, 2\n')));
    assert.match(msg, /not valid YAML/);
  });

  it('rejects a missing file by name', async () => {
    const msg = await rejection(loadConfigFile(path.join(dir, 'nope.yaml')));
    assert.match(msg, /nope\.yaml: config file not found/);
  });

  it('rejects a top level that is not a mapping', () => {
    assert.throws(() => validateConfig([1, 2]), /top level must be a mapping/);
  });
});

describe('config from flags', () => {
  it('builds a require-everything policy from trust flags', async () => {
    const { config } = await composeConfig({
      flags: { atprotoPolicy: 'p.yaml', insecureRegistry: ['127.0.0.1:5000'] },
    });
    assert.equal(config.policy.rules[0]?.name, 'command-line');
    assert.deepEqual(
      config.policy.rules[0]?.require.map((r) => r.verifier),
      ['atproto'],
    );
    assert.deepEqual(config.registries.insecure, ['127.0.0.1:5000']);
  });

  it('refuses to verify with no trust material at all', async () => {
    const msg = await rejection(composeConfig({ flags: {} }));
    assert.match(msg, /no trust material/);
  });
});

describe('redaction', () => {
  it('removes passwords and credentials in URLs', () => {
    const out = redactConfig({ a: { password: 'hunter2', url: 'redis://user:pw@host:6379' }, keep: 'x' });
    assert.deepEqual(out, {
      a: { password: '[redacted]', url: 'redis://user:[redacted]@host:6379' },
      keep: 'x',
    });
  });
});
