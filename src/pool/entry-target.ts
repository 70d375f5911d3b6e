import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from './error-message.js';

/** What a pool reference loads from: a local file, an http(s) URL, or nothing (and why). */
export type EntryTarget =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'bad'; readonly reason: string };

/**
 * Resolves a reference as a manifest line does: a path (relative ones against `base`), a file: URL,
 * or an http(s) URL; any other scheme is unusable.
 */
export function entryTarget(ref: string, base: string): EntryTarget {
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(ref)?.[1]?.toLowerCase();
  // A Windows drive letter is a path, not a scheme.
  if (scheme === undefined || isAbsolute(ref)) return { kind: 'file', path: resolve(base, ref) };
  if (scheme === 'http' || scheme === 'https') {
    return URL.canParse(ref) ? { kind: 'url', url: ref } : { kind: 'bad', reason: `not a valid URL: ${ref}` };
  }
  if (scheme === 'file') {
    try {
      return { kind: 'file', path: fileURLToPath(ref) };
    } catch (error) {
      return { kind: 'bad', reason: `not a valid file URL: ${ref} (${errorMessage(error)})` };
    }
  }
  return { kind: 'bad', reason: `unsupported URL scheme '${scheme}:' in ${ref}; use a local path, file:, http: or https:` };
}
