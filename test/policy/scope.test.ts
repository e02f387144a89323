import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileScope, scopeMatches } from '../../src/policy/scope.js';

describe('policy scopes', () => {
  const cases: Array<[pattern: string, image: string, matches: boolean]> = [
    ['*', 'docker.io/library/alpine', true],
    ['*', 'oci:/tmp/layout', true],
    ['ghcr.io/acme/*', 'ghcr.io/acme/app', true],
    ['ghcr.io/acme/*', 'ghcr.io/acme/team/app', false],
    ['ghcr.io/acme/**', 'ghcr.io/acme/team/app', true],
    ['ghcr.io/acme/app', 'ghcr.io/acme/app', true],
    ['ghcr.io/acme/app', 'ghcr.io/acme/app2', false],
    ['atcr.io/*/prod-*', 'atcr.io/alice/prod-api', true],
    ['atcr.io/*/prod-*', 'atcr.io/alice/dev-api', false],
    ['atcr.io/*/prod-*', 'atcr.io/alice/x/prod-api', false],
    ['127.0.0.1:5000/*', '127.0.0.1:5000/net-monitor', true],
    ['ghcr.io/a.b/*', 'ghcr.io/aXb/c', false],
  ];
  for (const [pattern, image, want] of cases) {
    it(`${pattern} ${want ? 'matches' : 'does not match'} ${image}`, () => {
      assert.equal(scopeMatches(compileScope(pattern), image), want);
    });
  }

  it('ranks an exact pattern above wildcards, and longer literals above shorter', () => {
    const exact = compileScope('ghcr.io/acme/app').specificity;
    const team = compileScope('ghcr.io/acme/*').specificity;
    const any = compileScope('*').specificity;
    const deep = compileScope('ghcr.io/**').specificity;
    assert.ok(exact > team && team > deep && deep > any);
  });
});
