/**
 * Image reference parsing: the docker/distribution reference grammar
 * (github.com/distribution/reference `reference.go`, `normalize.go`), with Docker Hub
 * normalization, plus OCI image layout references `oci:<dir>[:<tag>|@<digest>]`.
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] path-component ["/" path-component]*
 *   domain     := host [":" port]        host := domain-name | IPv4 | "[" IPv6 "]"
 *   path-comp  := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [\w][\w.-]{0,127}
 *
 * The first component is a registry host only when it contains "." or ":", is "localhost", or
 * has uppercase letters (the same rule docker and containerd use); otherwise the image lives on
 * Docker Hub (`docker.io`), and single-component names get the `library/` prefix.
 */
import { VouchError } from '../errors.js';
import { validateDigest } from './digest.js';
import type { ImageReference, LayoutReference } from './types.js';

/** Docker Hub's canonical registry name, and the legacy names normalized to it. */
export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
/** Longest name (registry + repository) the grammar allows. */
export const NAME_MAX_LENGTH = 255;
/** Longest tag the grammar allows. */
export const TAG_MAX_LENGTH = 128;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;

function invalid(input: string, why: string): never {
  const shown = input.length > 100 ? `${input.slice(0, 97)}...` : input;
  throw new VouchError('REFERENCE_INVALID', `invalid image reference "${shown}": ${why}`, {
    details: { reference: shown },
  });
}

/** Parses a registry image reference; throws REFERENCE_INVALID (or DIGEST_INVALID) naming the problem. */
export function parseReference(input: string): ImageReference {
  if (input === '') invalid(input, 'it is empty');
  if (/\s/.test(input)) invalid(input, 'it contains whitespace');
  if (input.startsWith('oci:')) invalid(input, 'an OCI layout reference (oci:…) is not a registry reference');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input))
    invalid(input, 'a reference has no URL scheme (drop "https://")');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digestPart = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (rest === '') invalid(input, 'the repository name is missing');
    if (digestPart === '') invalid(input, 'the digest after "@" is empty');
    if (digestPart.includes('@')) invalid(input, 'it contains more than one "@"');
    try {
      digest = validateDigest(digestPart);
    } catch (err) {
      throw new VouchError(
        'DIGEST_INVALID',
        `invalid image reference "${input}": ${(err as Error).message}`,
        {
          cause: err,
          details: { reference: input },
        },
      );
    }
  }
  if (rest === '') invalid(input, 'the repository name is missing');

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash && !(lastSlash < 0 && rest.startsWith('['))) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (tag === '') invalid(input, 'the tag after ":" is empty');
    if (tag.length > TAG_MAX_LENGTH)
      invalid(input, `the tag is ${tag.length} characters long (at most ${TAG_MAX_LENGTH})`);
    if (!TAG.test(tag)) {
      invalid(
        input,
        `the tag "${tag}" may contain only letters, digits, "_", "." and "-", and must not start with "." or "-"`,
      );
    }
  }
  if (rest === '') invalid(input, 'the repository name is missing');
  if (rest.length > NAME_MAX_LENGTH) {
    invalid(input, `the name is ${rest.length} characters long (at most ${NAME_MAX_LENGTH})`);
  }

  const firstSlash = rest.indexOf('/');
  const first = firstSlash < 0 ? rest : rest.slice(0, firstSlash);
  const firstIsHost =
    firstSlash >= 0 &&
    (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase() || first.startsWith('['));
  if (
    firstSlash < 0 &&
    (first.startsWith('[') || /^[^/]*\.[^/]*:\d+$/.test(first) || /^localhost:\d+$/.test(first))
  ) {
    invalid(input, `"${first}" looks like a registry host, but no repository follows it`);
  }

  let registry: string;
  let repository: string;
  if (firstIsHost) {
    registry = validateHost(input, first);
    repository = rest.slice(firstSlash + 1);
  } else {
    registry = DOCKER_HUB;
    repository = rest;
  }
  if (repository === '') invalid(input, 'the repository name after the registry host is missing');
  if (DOCKER_HUB_ALIASES.has(registry.toLowerCase())) {
    registry = DOCKER_HUB;
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  validateRepository(input, repository);

  const ref: { registry: string; repository: string; tag?: string; digest?: string } = {
    registry,
    repository,
  };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

function validateHost(input: string, domain: string): string {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close < 0) invalid(input, `the IPv6 registry host "${domain}" has no closing "]"`);
    host = domain.slice(0, close + 1);
    const after = domain.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) invalid(input, `unexpected "${after}" after the IPv6 registry host`);
      port = after.slice(1);
    }
    if (!IPV6_HOST.test(host)) invalid(input, `"${host}" is not a valid IPv6 literal`);
  } else {
    const colon = domain.indexOf(':');
    if (colon >= 0) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (host === '') invalid(input, 'the registry host is empty');
    for (const component of host.split('.')) {
      if (!DOMAIN_COMPONENT.test(component)) {
        invalid(input, `the registry host "${host}" is not a valid host name (component "${component}")`);
      }
    }
  }
  if (port !== undefined) {
    if (port === '') invalid(input, `the registry port after "${host}:" is empty`);
    if (!/^\d+$/.test(port)) invalid(input, `the registry port "${port}" is not a number`);
    const n = Number(port);
    if (n < 1 || n > 65535) invalid(input, `the registry port ${port} is out of range (1-65535)`);
  }
  return domain;
}

function validateRepository(input: string, repository: string): void {
  if (repository !== repository.toLowerCase()) {
    invalid(input, `the repository "${repository}" must be lowercase`);
  }
  for (const component of repository.split('/')) {
    if (component === '')
      invalid(input, `the repository "${repository}" has an empty path component ("//" or a trailing "/")`);
    if (!PATH_COMPONENT.test(component)) {
      invalid(
        input,
        `the repository path component "${component}" may contain only a-z, 0-9 and single separators ".", "_", "__" or "-" between them`,
      );
    }
  }
}

/** True for a LayoutReference (as opposed to a registry ImageReference). */
export function isLayoutReference(ref: ImageReference | LayoutReference): ref is LayoutReference {
  return (ref as LayoutReference).kind === 'layout';
}

/**
 * Parses either an OCI image layout reference `oci:<dir>[:<tag>|@<digest>]` or a registry reference.
 * In a layout reference the tag is what follows the last ":" after the last "/".
 */
export function parseAnyReference(input: string): ImageReference | LayoutReference {
  if (!input.startsWith('oci:')) return parseReference(input);
  let dir = input.slice('oci:'.length);
  let tag: string | undefined;
  let digest: string | undefined;
  const at = dir.lastIndexOf('@');
  if (at >= 0 && !dir.slice(at).includes('/')) {
    digest = validateDigest(dir.slice(at + 1));
    dir = dir.slice(0, at);
  } else {
    const colon = dir.lastIndexOf(':');
    if (colon >= 0 && colon > dir.lastIndexOf('/')) {
      tag = dir.slice(colon + 1);
      dir = dir.slice(0, colon);
      if (tag === '') invalid(input, 'the tag after ":" is empty');
      if (tag.length > TAG_MAX_LENGTH)
        invalid(input, `the tag is ${tag.length} characters long (at most ${TAG_MAX_LENGTH})`);
      if (!TAG.test(tag))
        invalid(input, `the tag "${tag}" may contain only letters, digits, "_", "." and "-"`);
    }
  }
  if (dir === '') invalid(input, 'the layout directory after "oci:" is empty');
  const ref: { kind: 'layout'; dir: string; tag?: string; digest?: string } = { kind: 'layout', dir };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The canonical string: `registry/repository[:tag][@digest]` (or `oci:dir[:tag|@digest]`). */
export function formatReference(ref: ImageReference | LayoutReference): string {
  const base = isLayoutReference(ref) ? `oci:${ref.dir}` : repositoryName(ref);
  return `${base}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** `registry/repository`, e.g. `docker.io/library/alpine`. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** `registry/repository@digest`: the reference a mutating webhook substitutes for a tag. */
export function pinnedReference(ref: ImageReference, digest: string): string {
  return `${repositoryName(ref)}@${validateDigest(digest)}`;
}

/** The reference with tag `latest` when it has neither tag nor digest (docker's default). */
export function withDefaultTag<T extends ImageReference | LayoutReference>(ref: T): T {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return { ...ref, tag: 'latest' };
}

/** What to ask the store for: the digest when pinned, else the tag, else `latest`. */
export function manifestReference(ref: ImageReference | LayoutReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
