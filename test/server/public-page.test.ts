/**
 * The public list as a page, loaded in headless Chromium (Debian `chromium`, driven by
 * playwright-core) from the live public listener: one row per admitted image with its digest,
 * signer and times, the copy-paste `vouch verify` command (which is then run, as copied, through
 * bin/vouch), no script and no request but the page itself; a screenshot goes to a temp folder (or
 * $VOUCH_TEST_ARTIFACTS), kept after the run.
 * Hostile values in a list are shown as text, never as markup.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import type { Descriptor } from '../../src/registry/types.js';
import type { ApplicationsPayload } from '../../src/server/public/envelope.js';
import { renderApplicationsPage } from '../../src/server/public/html.js';
import { podReview } from './public-review.js';
import { type PublicSetup, startPublicSetup } from './public-setup.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VOUCH = path.join(ROOT, 'bin', 'vouch');
const CHROMIUM = process.env.VOUCH_TEST_CHROMIUM ?? '/usr/bin/chromium';
const execFileAsync = promisify(execFile);

describe('the public page in headless Chromium', { timeout: 180_000 }, () => {
  let s: PublicSetup;
  let browser: Browser;
  const images: Record<string, Descriptor> = {};
  const ref = (repo: string) => `${s.registry.host}/${repo}@${(images[repo] as Descriptor).digest}`;

  before(async () => {
    // bin/vouch runs the bundle (dist/cli); build it when it or this feature's module is missing
    if (
      !existsSync(path.join(ROOT, 'dist', 'cli', 'main.js')) ||
      !existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'verify-remote.js'))
    )
      await execFileAsync('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 180_000 });
    s = await startPublicSetup({ namespaces: ['shop'] });
    for (const repo of ['web', 'worker', 'cache']) images[repo] = await s.images.push(repo, 'v1', true);
    const answer = await s.admit(
      await podReview({
        namespace: 'shop',
        containers: [
          ['web', ref('web')],
          ['worker', ref('worker')],
          ['cache', `${s.registry.host}/cache:v1`],
        ],
      }),
    );
    assert.equal(answer.allowed, true, answer.status?.message);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  it('shows every image row with digest, signer and times, and the verify command, with no script or other request', async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    const url = `${s.publicUrl}/v1/applications/shop`;
    const res = await page.goto(url);
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-type'] ?? '', /^text\/html/);
    assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    const rows = await page.$$eval('tr.image', (trs) =>
      trs.map((tr) => ({
        container: tr.querySelector('.container')?.textContent ?? '',
        name: tr.querySelector('.name')?.textContent ?? '',
        digest: tr.querySelector('.digest')?.textContent ?? '',
        signers: tr.querySelector('.signers')?.textContent ?? '',
        times: [...tr.querySelectorAll('time')].map((t) => t.getAttribute('datetime') ?? ''),
      })),
    );
    assert.deepEqual(rows.map((r) => r.container).sort(), ['cache', 'web', 'worker']);
    for (const repo of ['web', 'worker', 'cache']) {
      const row = rows.find((r) => r.container === repo);
      assert.equal(row?.name, `${s.registry.host}/${repo}`);
      assert.equal(row?.digest, images[repo]?.digest);
      assert.match(row?.signers ?? '', /^cosign: key sha256:/);
      assert.equal(row?.times.length, 2);
      for (const t of row?.times ?? []) assert.ok(Number.isFinite(Date.parse(t)), t);
    }
    const command = (await page.textContent('#verify-command'))?.trim();
    assert.equal(command, `vouch verify ${url} --public-key vouch.pub`);
    const perImage = (await page.textContent('#image-commands')) ?? '';
    for (const repo of ['web', 'worker', 'cache']) assert.ok(perImage.includes(`vouch verify ${ref(repo)}`));
    assert.equal(await page.locator('script').count(), 0);
    assert.deepEqual(requested, [url], 'no asset is fetched besides the page');
    // kept after the run (CI uploads VOUCH_TEST_ARTIFACTS when set)
    const artifacts = process.env.VOUCH_TEST_ARTIFACTS
      ? await mkdir(process.env.VOUCH_TEST_ARTIFACTS, { recursive: true }).then(
          () => process.env.VOUCH_TEST_ARTIFACTS as string,
        )
      : await mkdtemp(path.join(tmpdir(), 'vouch-public-page-'));
    const shot = path.join(artifacts, 'public-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = await readFile(shot);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], `screenshot at ${shot}`);
    process.stderr.write(`public page screenshot: ${shot}\n`);

    // the command as copied, run where the reader keeps vouch.pub, with the reader's trust flags
    const words = command?.split(' ') ?? [];
    assert.equal(words[0], 'vouch');
    const run = await execFileAsync(
      VOUCH,
      [...words.slice(1), '--insecure-registry', s.registry.host, '--key', s.images.publicKeyFile],
      { cwd: s.dir, timeout: 60_000 },
    );
    assert.match(run.stdout, /3 of 3 image\(s\) verified/);
    await page.close();
  });

  it('renders hostile values as text, never as markup', async () => {
    const evil = '<script>document.title="owned"</script><img src=x onerror=alert(1)>';
    const payload: ApplicationsPayload = {
      apiVersion: 'vouch.dev/v1',
      kind: 'Applications',
      namespace: 'shop',
      issuedAt: new Date().toISOString(),
      ttlSeconds: 3600,
      images: [
        {
          reference: `r.example/a@sha256:${'a'.repeat(64)}`,
          name: `r.example/${evil}`,
          digest: `sha256:${'a'.repeat(64)}`,
          container: evil,
          pod: `Pod/"'>${evil}`,
          rule: evil,
          verified: true,
          signatures: [{ verifier: 'cosign', artifact: evil, signers: [{ identity: [evil], issuer: evil }] }],
          decidedAt: `"${evil}`,
          admittedAt: new Date().toISOString(),
        },
      ],
    };
    const page = await browser.newPage();
    await page.setContent(renderApplicationsPage(payload, `https://h.example/v1/applications/shop'"${evil}`));
    assert.equal(await page.locator('script, img').count(), 0);
    assert.notEqual(await page.title(), 'owned');
    assert.ok(((await page.textContent('td.container')) ?? '').includes('<script>'));
    assert.ok(
      ((await page.textContent('#verify-command')) ?? '').includes("'\\''"),
      'the URL is shell-quoted',
    );
    await page.close();
  });
});
