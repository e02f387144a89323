/**
 * Runs a docker credential helper (docker/docker-credential-helpers protocol): the program
 * `docker-credential-<name>` with argument `get`, the server URL on stdin, and on stdout
 * `{"ServerURL","Username","Secret"}`. Username `<token>` means Secret is an identity token.
 * "credentials not found" (non-zero exit) means no credential. The output is never logged.
 */
import { spawn } from 'node:child_process';
import { VouchError } from '../../errors.js';
import type { Credential } from './types.js';

const MAX_HELPER_OUTPUT = 64 * 1024;

/** Runs `docker-credential-<name> get` for `serverUrl`, bounded by `timeoutMs`. */
export function runCredentialHelper(
  name: string,
  serverUrl: string,
  timeoutMs: number,
): Promise<Credential | undefined> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    timer.unref();
    let out = '';
    let errText = '';
    let tooLarge = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.length > MAX_HELPER_OUTPUT) {
        tooLarge = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: string) => {
      errText = (errText + chunk).slice(-512);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(
        new VouchError('CONFIG_INVALID', `credential helper ${program} cannot run: ${err.message}`, {
          cause: err,
        }),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (tooLarge) {
        reject(
          new VouchError(
            'CONFIG_INVALID',
            `credential helper ${program} wrote more than ${MAX_HELPER_OUTPUT} bytes`,
          ),
        );
        return;
      }
      if (timedOut) {
        reject(
          new VouchError(
            'REGISTRY_AUTH_FAILED',
            `credential helper ${program} did not answer within ${timeoutMs} ms`,
          ),
        );
        return;
      }
      if (code !== 0) {
        if (/not found/i.test(out + errText)) resolve(undefined);
        else
          reject(
            new VouchError(
              'REGISTRY_AUTH_FAILED',
              `credential helper ${program} failed with exit code ${code}`,
            ),
          );
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(out);
      } catch {
        reject(new VouchError('CONFIG_INVALID', `credential helper ${program} did not print JSON`));
        return;
      }
      const p = parsed as { Username?: unknown; Secret?: unknown };
      if (typeof p.Secret !== 'string' || p.Secret === '') {
        resolve(undefined);
        return;
      }
      if (p.Username === '<token>') resolve({ identityToken: p.Secret });
      else if (typeof p.Username === 'string') resolve({ username: p.Username, password: p.Secret });
      else reject(new VouchError('CONFIG_INVALID', `credential helper ${program} printed no Username`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(serverUrl);
  });
}
