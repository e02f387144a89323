/**
 * deploy/ratify-plugin and the Dockerfile's ratify_plugin stage, checked without a Docker engine:
 * the stage puts Ratify's binary where Ratify's chart runs it and installs vouch where Ratify
 * looks for plugins, under the name the shipped Verifier CRs ask for; the install command of the
 * stage is run for real and the plugin it writes answers as a Ratify plugin.
 * (The CRs' parameters are fed to the plugin, as Ratify passes them, in test/ratify/plugin.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseDockerfile } from './dockerfile-parse.js';
import { DEPLOY, type K8sObject, kubectlPresent, kustomize, parseDocuments, ROOT } from './manifests.js';

const run = promisify(execFile);
const instructions = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const fromLine = instructions.find((i) => i.op === 'FROM' && / AS ratify_plugin$/.test(i.args));
const stage = instructions.filter((i) => i.stage === fromLine?.stage);
const env = Object.fromEntries(
  stage
    .filter((i) => i.op === 'ENV')
    .flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])),
) as Record<string, string>;
const DIR = join(DEPLOY, 'ratify-plugin');
const crs: K8sObject[] = readdirSync(DIR)
  .filter((f) => f.startsWith('verifier-') && f.endsWith('.yaml'))
  .flatMap((f) => parseDocuments(readFileSync(join(DIR, f), 'utf8'), f));
const spec = (cr: K8sObject) => cr.spec as Record<string, unknown> & { parameters: Record<string, unknown> };

/** The stage's `vouch ratify install-plugin --dir D --name N` command, split into words. */
function installCommand(): string[] {
  const line = stage.find((i) => i.op === 'RUN' && i.args.includes('ratify install-plugin'));
  assert.ok(line, 'the stage installs the plugin with vouch ratify install-plugin');
  const words = (line.args.split('&&')[0] ?? '').trim().split(/\s+/);
  assert.equal(words[0], 'node');
  return words;
}

describe('Dockerfile ratify_plugin stage', () => {
  it('takes the static Ratify binary from the pinned Ratify image and runs it as Ratify does', () => {
    assert.ok(fromLine, 'a stage named ratify_plugin');
    assert.equal(
      fromLine.args,
      `\${NODE_IMAGE} AS ratify_plugin`,
      'Node needs a C library: Debian, not distroless',
    );
    const ratifyStage = instructions.find((i) => i.op === 'FROM' && i.args === `\${RATIFY_IMAGE} AS ratify`);
    assert.ok(ratifyStage, 'Ratify image stage');
    assert.ok(stage.some((i) => i.op === 'COPY' && i.args === '--from=ratify /app/ratify /app/ratify'));
    const entry = JSON.parse(stage.find((i) => i.op === 'ENTRYPOINT')?.args ?? '[]') as string[];
    assert.deepEqual(
      entry.slice(0, 2),
      ['/app/ratify', 'serve'],
      "Ratify's entrypoint; its chart sets command /app/ratify",
    );
    const users = stage.filter((i) => i.op === 'USER');
    assert.deepEqual(
      users.map((u) => u.args),
      ['65532:65532'],
      "the uid Ratify's chart runs as (runAsUser 65532)",
    );
    const userAt = stage.indexOf(users[0]!);
    assert.ok(
      stage.slice(userAt).every((i) => i.op !== 'RUN'),
      'nothing runs as root after USER',
    );
    assert.ok(
      stage.some((i) => i.op === 'COPY' && i.args.includes('--from=build') && i.args.includes('dist/cli')),
      'the bundled CLI: one process per artifact, cold start matters (bench/ratify-plugin.ts)',
    );
  });

  it('installs the plugin in $HOME/.ratify/plugins under the type the shipped Verifier CRs name', () => {
    const words = installCommand();
    const dir = words[words.indexOf('--dir') + 1];
    const name = words[words.indexOf('--name') + 1];
    assert.equal(dir, `${env.HOME}/.ratify/plugins`, "Ratify's default plugin directory for the user's HOME");
    assert.equal(env.HOME, '/home/nonroot', "HOME of uid 65532 in Ratify's distroless image");
    assert.ok(crs.length >= 4, 'notation, cosign, atproto and vulnerability-report Verifiers');
    for (const cr of crs) {
      assert.equal(cr.apiVersion, 'config.ratify.deislabs.io/v1beta1');
      assert.equal(cr.kind, 'Verifier');
      assert.equal(spec(cr).type, name, `${cr.metadata.name}: Ratify finds the plugin file by type`);
      assert.equal(typeof spec(cr).artifactTypes, 'string');
      assert.match(
        String(spec(cr).parameters.verifier),
        /^(notation|cosign|atproto|sbom|vulnerabilityReport)$/,
      );
    }
  });

  it('kustomize renders the Verifier CRs', { skip: !kubectlPresent() && 'kubectl is absent' }, () => {
    const rendered = kustomize(DIR);
    assert.deepEqual(rendered.map((o) => o.metadata.name).sort(), crs.map((o) => o.metadata.name).sort());
  });

  describe("the stage's install command, run for real", () => {
    let tmp: string;
    before(async () => {
      if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))
        await run('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 180_000 });
      tmp = await mkdtemp(join(tmpdir(), 'vouch-ratify-stage-'));
    });
    after(async () => {
      if (tmp) await rm(tmp, { recursive: true, force: true });
    });

    it('writes an executable that answers as a Ratify plugin (an unsupported version is refused)', async () => {
      const words = installCommand();
      // the image's /opt/vouch is this checkout; the plugin directory a temp one
      const args = words.slice(2).map((w, i, all) => (all[i - 1] === '--dir' ? join(tmp, 'plugins') : w));
      const { stdout } = await run(process.execPath, [join(ROOT, 'dist/cli/main.js'), ...args]);
      const plugin = stdout.trim();
      assert.equal(plugin, join(tmp, 'plugins', 'vouch'));
      const script = readFileSync(plugin, 'utf8');
      assert.match(
        script,
        /dist\/cli\/main\.js' ratify-plugin\n$/,
        'node + the bundled CLI, no shell wrapper',
      );
      let refused: { status: number | null; stdout: string } = { status: 0, stdout: '' };
      try {
        execFileSync(plugin, [], {
          input: '{}',
          encoding: 'utf8',
          timeout: 30_000,
          env: {
            PATH: process.env.PATH ?? '',
            RATIFY_VERIFIER_COMMAND: 'VERIFY',
            RATIFY_VERIFIER_SUBJECT: `localhost:5000/app@sha256:${'a'.repeat(64)}`,
            RATIFY_VERIFIER_VERSION: '9.9.9',
          },
        });
      } catch (err) {
        refused = err as { status: number | null; stdout: string };
      }
      assert.equal(refused.status, 1, 'a plugin error exits non-zero');
      const body = JSON.parse(refused.stdout) as { code: number; msg: string };
      assert.equal(typeof body.code, 'number');
      assert.match(body.msg, /9\.9\.9/);
    });
  });
});
