/**
 * RFC 3161 client: asks a timestamp authority for a TimeStampToken over the primitive signature
 * (specs/signature-specification.md "Unsigned Attributes": Timestamp Signature). Bounded: one POST,
 * a 1 MiB response limit and a deadline.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { VouchError } from '../../errors.js';

const SHA256 = '2.16.840.1.101.3.4.2.1';
const MAX_RESPONSE_BYTES = 1024 * 1024;
const TIMEOUT_MS = 15_000;

/**
 * A random 64-bit nonce that is a positive, minimal DER INTEGER as it stands: a leading 0x00 would
 * be non-minimal (a TSA such as openssl ts refuses the request, about 1 in 512 requests before this
 * rule), and a set high bit would make it negative.
 */
export function timestampNonce(): Buffer {
  const nonce = randomBytes(8);
  nonce[0] = ((nonce[0] ?? 0) & 0x7f) | 0x01;
  return nonce;
}

/** Requests a token over `signature` (SHA-256 imprint, nonce, certReq) and returns its DER. */
export async function requestTimestamp(
  url: string,
  signature: Uint8Array,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VouchError('USAGE', `--timestamp-url ${url} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new VouchError('USAGE', `--timestamp-url must be http(s), not ${parsed.protocol}`);
  const imprint = createHash('sha256').update(signature).digest();
  const nonce = timestampNonce();
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: imprint }),
    }),
    nonce: new asn1js.Integer({ valueHex: nonce }),
    certReq: true,
  });
  const deadline = AbortSignal.timeout(TIMEOUT_MS);
  let body: Uint8Array;
  try {
    const res = await fetch(parsed, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: new Uint8Array(request.toSchema().toBER()),
      redirect: 'error',
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
    });
    if (!res.ok)
      throw new VouchError(
        'SIGNING_FAILED',
        `timestamp authority ${parsed.host} answered HTTP ${res.status}`,
      );
    const length = Number(res.headers.get('content-length') ?? '0');
    if (length > MAX_RESPONSE_BYTES)
      throw new VouchError('SIGNING_FAILED', `timestamp response larger than ${MAX_RESPONSE_BYTES} bytes`);
    body = await readLimited(res, MAX_RESPONSE_BYTES);
  } catch (err) {
    if (err instanceof VouchError) throw err;
    throw new VouchError(
      'SIGNING_FAILED',
      `timestamp authority ${parsed.host} unreachable: ${(err as Error).message}`,
      { cause: err },
    );
  }
  let response: pkijs.TimeStampResp;
  try {
    response = pkijs.TimeStampResp.fromBER(body);
  } catch (err) {
    throw new VouchError('SIGNING_FAILED', `timestamp response does not parse: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (response.status.status !== 0 && response.status.status !== 1) {
    throw new VouchError(
      'SIGNING_FAILED',
      `timestamp authority refused the request (PKIStatus ${response.status.status})`,
    );
  }
  const token = response.timeStampToken;
  if (!token) throw new VouchError('SIGNING_FAILED', 'timestamp response carries no token');
  const signed = new pkijs.SignedData({ schema: token.content });
  const content = signed.encapContentInfo.eContent?.getValue();
  if (!content) throw new VouchError('SIGNING_FAILED', 'timestamp token has no TSTInfo');
  const info = pkijs.TSTInfo.fromBER(content);
  if (!Buffer.from(info.messageImprint.hashedMessage.valueBlock.valueHexView).equals(imprint)) {
    throw new VouchError('SIGNING_FAILED', 'timestamp token is for another message (imprint mismatch)');
  }
  if (!info.nonce || !Buffer.from(info.nonce.valueBlock.valueHexView).equals(nonce)) {
    throw new VouchError('SIGNING_FAILED', 'timestamp token does not echo the request nonce');
  }
  return new Uint8Array(token.toSchema().toBER());
}

/** The body, refused as soon as it passes `max` bytes (a chunked answer has no content-length). */
async function readLimited(res: Response, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (!res.body) return new Uint8Array();
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > max) {
      await res.body.cancel().catch(() => {});
      throw new VouchError('SIGNING_FAILED', `timestamp response larger than ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
