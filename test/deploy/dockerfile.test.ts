/**
 * The container image, checked without a Docker engine (none runs on these machines or in CI):
 * the Dockerfile is parsed into instructions and held to the image's rules, the build context
 * allow-list (.dockerignore) is checked against every COPY, and the HEALTHCHECK command is run
 * with this Node against the probe listener of a real vouch server on loopback, serving the shipped
 * base vouch.yaml with mTLS on its main port.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Instruction, parseDockerfile } from './dockerfile-parse.js';
import { KUSTOMIZE, ROOT } from './manifests.js';
import { listenPort, type ServedConfig, serveShippedConfig } from './served.js';

/** .dockerignore semantics for the patterns used here: `*`, `name`, `dir/`, `dir/**`, `!` re-includes; last match wins. */
function included(patterns: string[], path: string): boolean {
  let keep = true;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const pattern = (negate ? p.slice(1) : p).replace(/\/$/, '');
    const body = pattern
      .split('**')
      .map((part) => part.replace(/\./g, '\\.').replace(/\*/g, '[^/]*'))
      .join('.*');
    const re = new RegExp(`^${body}(/.*)?$`);
    if (re.test(path)) keep = negate;
  }
  return keep;
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const instructions = parseDockerfile(dockerfile);
const finalStage = Math.max(...instructions.map((i) => i.stage));
const final = instructions.filter((i) => i.stage === finalStage);
const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

function healthcheckArgv(): string[] {
  const hc = final.find((i) => i.op === 'HEALTHCHECK');
  assert.ok(hc, 'the runtime stage has a HEALTHCHECK');
  const json = hc.args.slice(hc.args.indexOf('CMD') + 3).trim();
  return JSON.parse(json) as string[];
}

describe('Dockerfile', () => {
  it('is multi-stage: build compiles, deps installs production modules, runtime is Node 24 slim', () => {
    const froms = instructions.filter((i) => i.op === 'FROM');
    assert.ok(froms.length >= 3, 'build, deps and runtime stages');
    const arg = instructions.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    assert.match(arg?.args ?? '', /^NODE_IMAGE=node:24[-.\w]*-slim$/);
    for (const f of froms) assert.match(f.args, /^\$\{(NODE_IMAGE|RATIFY_IMAGE)\} AS \w+$/);
    // Ratify's image is used only as a source of its binary, pinned to the release the plugin speaks
    const ratifyArg = instructions.find((i) => i.op === 'ARG' && i.args.startsWith('RATIFY_IMAGE='));
    assert.equal(ratifyArg?.args, 'RATIFY_IMAGE=ghcr.io/ratify-project/ratify:v1.4.0');
    const runs = instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    assert.ok(
      runs.some((r) => r.includes('npm install --omit=dev')),
      'production dependencies via npm install --omit=dev (from the lockfile)',
    );
    assert.ok(
      runs.some((r) => r.includes('npm run build')),
      'TypeScript compiled in the build stage',
    );
    const copies = final.filter((i) => i.op === 'COPY').map((i) => i.args);
    assert.ok(copies.some((c) => c.includes('--from=deps') && c.includes('node_modules')));
    assert.ok(copies.some((c) => c.includes('--from=build') && c.includes('dist/src')));
    assert.ok(
      !copies.some((c) => /\bsrc\b/.test(c) && !c.includes('--from')),
      'no TypeScript sources in the runtime',
    );
  });

  it('runs as a numeric non-root user, with vouch as entrypoint and serve as the default command', () => {
    const users = final.filter((i) => i.op === 'USER');
    assert.equal(users.length, 1);
    const [uid] = (users[0]?.args ?? '').split(':');
    assert.match(uid ?? '', /^[1-9]\d*$/, 'numeric, so Kubernetes runAsNonRoot can check it');
    const userIndex = final.indexOf(users[0] as Instruction);
    assert.ok(
      final.slice(userIndex).every((i) => i.op !== 'RUN'),
      'nothing runs as root after USER',
    );
    assert.deepEqual(JSON.parse(final.find((i) => i.op === 'ENTRYPOINT')?.args ?? '[]'), ['vouch']);
    assert.ok(
      final.some(
        (i) => i.op === 'RUN' && i.args.includes('ln -s /app/dist/src/cli/main.js /usr/local/bin/vouch'),
      ),
    );
    const cmd = JSON.parse(final.find((i) => i.op === 'CMD')?.args ?? '[]') as string[];
    assert.deepEqual(cmd.slice(0, 3), ['serve', '--config', '/etc/vouch/vouch.yaml']);
    // the symlinked entrypoint runs the compiled CLI directly: it needs its shebang
    assert.ok(readFileSync(join(ROOT, 'src/cli/main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n'));
  });

  it('bakes nothing secret in and declares no volumes (read-only root; /tmp comes from the runtime)', () => {
    for (const i of instructions) {
      if (i.op === 'ENV' || i.op === 'ARG')
        assert.doesNotMatch(i.args, /(PASSWORD|SECRET|TOKEN|_KEY)\b/i, i.args);
      if (i.op === 'COPY') assert.doesNotMatch(i.args, /\.(key|pem|crt|p12)\b|\.npmrc|\.docker/, i.args);
      assert.notEqual(i.op, 'VOLUME');
      assert.notEqual(i.op, 'ADD', 'COPY only: ADD fetches URLs and unpacks archives');
    }
    assert.doesNotMatch(instructions.map((i) => i.args).join('\n'), /\b(curl|wget)\b/, 'no curl or wget');
  });

  it('.dockerignore lets in exactly what the COPY instructions need', () => {
    const sources = instructions
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from'))
      .flatMap((i) => i.args.replace(/--\S+/g, '').trim().split(/\s+/).slice(0, -1));
    assert.ok(sources.length >= 4);
    for (const s of sources)
      assert.ok(included(ignore, s.replace(/\/$/, '')), `${s} is in the build context`);
    assert.ok(included(ignore, 'src/cli/main.ts'));
    for (const p of [
      'node_modules/x',
      'dist/src/index.js',
      '.git/config',
      '.tools/node/bin/node',
      'test/a.ts',
      'deploy/x',
    ]) {
      assert.ok(!included(ignore, p), `${p} stays out of the build context`);
    }
  });

  describe('HEALTHCHECK (run for real against the probe listener of a real vouch server)', () => {
    let served: ServedConfig | undefined;

    before(async () => {
      // the shipped base vouch.yaml and trust material, with mTLS on the main port (gatekeeper mode)
      const trust = join(KUSTOMIZE, 'base', 'trust');
      const files = Object.fromEntries(
        readdirSync(trust).map((f) => [f, readFileSync(join(trust, f), 'utf8')]),
      );
      served = await serveShippedConfig(
        readFileSync(join(KUSTOMIZE, 'base', 'vouch.yaml'), 'utf8'),
        files,
        true,
      );
    });

    after(async () => {
      await served?.close();
    });

    function runHealthcheck(url: string): Promise<number> {
      const [cmd, ...args] = healthcheckArgv();
      assert.equal(cmd, 'node', 'the HEALTHCHECK uses Node, not curl');
      const env = { ...process.env, HEALTHCHECK_URL: url };
      return new Promise((resolve) => {
        const child = execFile(process.execPath, args, { env, timeout: 10_000 });
        child.on('exit', (code) => resolve(code ?? -1));
      });
    }

    it('defaults to the shipped probe listener: http://127.0.0.1:8081/health, a port the image exposes', () => {
      const env = final
        .filter((i) => i.op === 'ENV')
        .map((i) => i.args)
        .join(' ');
      const url = new URL(/HEALTHCHECK_URL=(\S+)/.exec(env)?.[1] ?? '');
      assert.equal(url.protocol, 'http:', 'plain HTTP: the main port may demand a client certificate');
      assert.equal(url.pathname, '/health');
      assert.equal(Number(url.port), listenPort(served?.shippedProbeListen ?? ''));
      const exposed = final.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
      assert.deepEqual(exposed.sort(), ['8081', '8443']);
      // the image's CMD listens on 8443, the port the Deployment's https container port names
      const cmd = JSON.parse(final.find((i) => i.op === 'CMD')?.args ?? '[]') as string[];
      assert.equal(cmd[cmd.indexOf('--listen') + 1], '0.0.0.0:8443');
    });

    it('exits 0 when the probe listener answers /health with 200', async () => {
      assert.equal(await runHealthcheck(`${served?.probeUrl}/health`), 0);
    });

    it('exits 1 on the mTLS main port (no client certificate: refused in the handshake)', async () => {
      assert.equal(await runHealthcheck(`${served?.mainUrl}/health`), 1);
    });

    it('exits 1 when the answer is not 200, and when nothing listens', async () => {
      // a real non-200: the probe listener has no decision routes
      assert.equal(await runHealthcheck(`${served?.probeUrl}/gatekeeper/v1/verify`), 1);
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const freePort = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      assert.equal(await runHealthcheck(`http://127.0.0.1:${freePort}/health`), 1);
    });
  });
});
