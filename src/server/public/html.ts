/**
 * The published list as a page for people: one row per image (container, image, digest, who
 * signed it, when it was verified and admitted) and the `vouch verify` command that re-checks
 * everything independently. Server-rendered, every value escaped, no JavaScript, no external
 * assets (the listener's Content-Security-Policy forbids both).
 */
import type { ApplicationsPayload, PublishedImage, PublishedSignature } from './envelope.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** Quotes a shell word when it holds anything but safe characters. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:@=+-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

function signerText(s: PublishedSignature): string {
  const who = s.signers.map((x) => {
    if (x.identity?.length) return `${x.identity.join(', ')}${x.issuer ? ` (${x.issuer})` : ''}`;
    if (x.subject) return x.subject;
    if (x.keyId) return `key ${x.keyId.slice(0, 19)}…`;
    return 'unnamed signer';
  });
  return `${s.verifier}: ${who.length > 0 ? who.join('; ') : 'verified'}`;
}

function row(image: PublishedImage): string {
  const signers = image.signatures.length
    ? image.signatures.map((s) => `<li>${escapeHtml(signerText(s))}</li>`).join('')
    : '<li>none</li>';
  const details = image.details
    ? Object.entries(image.details)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : '';
  return `<tr class="image">
<td class="container">${escapeHtml(image.container)}${image.pod ? `<br><small>${escapeHtml(image.pod)}</small>` : ''}</td>
<td class="name">${escapeHtml(image.name)}</td>
<td class="digest"><code>${escapeHtml(image.digest)}</code></td>
<td class="signers"><ul>${signers}</ul>${details ? `<small>required: ${escapeHtml(details)}</small>` : ''}</td>
<td class="time"><time datetime="${escapeHtml(image.decidedAt)}">${escapeHtml(image.decidedAt)}</time></td>
<td class="time"><time datetime="${escapeHtml(image.admittedAt)}">${escapeHtml(image.admittedAt)}</time></td>
</tr>`;
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:90rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:.45rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font:13px ui-monospace,monospace}td.digest code{word-break:break-all}
pre{background:#f6f8fa;padding:.8rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}ul{margin:0;padding-left:1rem}
.note{color:#57606a}`;

/** The page for `payload`, with `url` the list's public URL (for the verify command). */
export function renderApplicationsPage(payload: ApplicationsPayload, url: string): string {
  const command = `vouch verify ${shellWord(url)} --public-key vouch.pub`;
  const keysUrl = url.replace(/\/v1\/applications\/[^/]+$/, '/v1/keys');
  const rows = payload.images.map(row).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Images running in ${escapeHtml(payload.namespace)} (vouch)</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Images admitted in namespace <code>${escapeHtml(payload.namespace)}</code></h1>
<p class="note">Listed by this cluster's vouch at <time datetime="${escapeHtml(payload.issuedAt)}">${escapeHtml(payload.issuedAt)}</time>: ${payload.images.length} image${payload.images.length === 1 ? '' : 's'} admitted in the last ${Math.round(payload.ttlSeconds / 3600) || 1} h. This page is a convenience; do not take its word. Re-verify every image yourself, under your own trust policy:</p>
<pre id="verify-command"><code>${escapeHtml(command)}</code></pre>
<p class="note">Get vouch's public key out of band (the operator's published copy), or from <a href="${escapeHtml(keysUrl)}">${escapeHtml(keysUrl)}</a> (which only proves it came from this server).</p>
<table>
<thead><tr><th>Container</th><th>Image</th><th>Digest</th><th>Signed by</th><th>Verified</th><th>Admitted</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<h2>Each image on its own</h2>
<pre id="image-commands"><code>${payload.images.map((i) => escapeHtml(`vouch verify ${shellWord(i.reference)}`)).join('\n')}</code></pre>
</body>
</html>
`;
}
