/**
 * One HTTP exchange through undici's dispatcher API: resolves with the status and headers as soon
 * as they arrive, the body following into a ResponseBody (response-body.ts says why not a stream).
 * The caller's signal aborts the request at any stage: queued, waiting for headers, or receiving.
 */
import type { Dispatcher } from 'undici';
import { ResponseBody } from './response-body.js';

export interface DispatchedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: ResponseBody;
}

export interface DispatchRequest {
  readonly method: Dispatcher.HttpMethod;
  readonly headers: Record<string, string>;
  readonly body: Buffer | null;
  readonly signal: AbortSignal;
  /** false: keep the connection after this request (undici closes one after a HEAD otherwise). */
  readonly reset?: boolean;
}

/** The signal's reason as an Error (undici's controller takes only Errors). */
function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
}

export function dispatchRequest(
  dispatcher: Dispatcher,
  url: URL,
  req: DispatchRequest,
): Promise<DispatchedResponse> {
  const { signal } = req;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const body = new ResponseBody();
    let controller: Dispatcher.DispatchController | undefined;
    let started = false;
    const onAbort = () => {
      const reason = abortReason(signal);
      // a request still queued gets its controller later (onRequestStart aborts it then)
      controller?.abort(reason);
      if (!started) {
        started = true;
        reject(reason);
      } else body.fail(reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        body.attach(c);
        if (signal.aborted) c.abort(abortReason(signal));
      },
      onResponseStart(_c, statusCode, headers) {
        if (started) return; // aborted before the headers came
        started = true;
        resolve({ status: statusCode, headers: headers as DispatchedResponse['headers'], body });
      },
      onResponseData(_c, chunk) {
        body.push(chunk);
      },
      onResponseEnd() {
        done();
        body.end();
      },
      onResponseError(_c, err) {
        done();
        if (!started) {
          started = true;
          reject(err);
        } else body.fail(err);
      },
    };
    try {
      dispatcher.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method,
          headers: req.headers,
          body: req.body,
          ...(req.reset === undefined ? {} : { reset: req.reset }),
        },
        handler,
      );
    } catch (err) {
      done();
      reject(err);
    }
  });
}
