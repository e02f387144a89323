import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_SERVER_NODE_FLAGS,
  reexecArgv,
  reexecEnv,
  serverNodeFlags,
} from '../../src/server/node-flags.js';

const proc = (execArgv: string[], env: Record<string, string> = {}) => ({
  execPath: '/usr/bin/node',
  execArgv,
  argv: ['/usr/bin/node', '/app/dist/src/cli/main.js', 'serve', '--listen', '127.0.0.1:8443'],
  env,
});

describe('node flags of vouch serve', () => {
  it("re-executes with the default flags before the shim's own and the command line", () => {
    assert.deepEqual(reexecArgv(proc(['--enable-source-maps'])), [
      '/usr/bin/node',
      ...DEFAULT_SERVER_NODE_FLAGS,
      '--enable-source-maps',
      '/app/dist/src/cli/main.js',
      'serve',
      '--listen',
      '127.0.0.1:8443',
    ]);
  });

  it('does not re-execute twice, nor for flags already given on the command line or in NODE_OPTIONS', () => {
    assert.equal(reexecArgv(proc([], { VOUCH_SERVE_REEXECUTED: '1' })), undefined);
    assert.equal(reexecArgv(proc(['--max-semi-space-size=16', '--heap-growing-percent=50'])), undefined);
    assert.equal(
      reexecArgv(proc([], { NODE_OPTIONS: '--max-semi-space-size=8 --heap-growing-percent=20' })),
      undefined,
    );
    assert.deepEqual(reexecArgv(proc(['--max-semi-space-size=16']))?.slice(1, 2), [
      '--heap-growing-percent=10',
    ]);
  });

  it('takes its list from VOUCH_SERVE_NODE_FLAGS, and an empty one turns re-execution off', () => {
    assert.deepEqual(serverNodeFlags({ VOUCH_SERVE_NODE_FLAGS: ' --max-old-space-size=200  ' }), [
      '--max-old-space-size=200',
    ]);
    assert.equal(reexecArgv(proc([], { VOUCH_SERVE_NODE_FLAGS: '' })), undefined);
  });

  it('re-executes with two malloc arenas unless the environment chooses, and marks the new process', () => {
    const env = reexecEnv({ PATH: '/bin' });
    assert.equal(env.MALLOC_ARENA_MAX, '2');
    assert.equal(env.VOUCH_SERVE_REEXECUTED, '1');
    assert.equal(env.PATH, '/bin');
    assert.equal(reexecEnv({ MALLOC_ARENA_MAX: '8' }).MALLOC_ARENA_MAX, '8');
    assert.equal(reexecArgv(proc([], reexecEnv({}) as Record<string, string>)), undefined);
  });
});
