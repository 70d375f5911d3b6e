/**
 * What a task's `image` field holds for a sample URI. Label Studio opens local files only through
 * `/data/local-files/?d=<path relative to LOCAL_FILES_DOCUMENT_ROOT>`, and only from a directory some
 * Local Files storage of the project covers; web and cloud URIs pass through untouched (the browser or
 * the server's storage connection resolves them).
 */
import { dirname, isAbsolute, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RprError } from '../../errors/index.js';

export type ImageRef =
  | { readonly kind: 'remote'; readonly url: string }
  /** `directory` must be covered by a Local Files storage on the project for the server to serve it. */
  | { readonly kind: 'local'; readonly url: string; readonly directory: string };

export const LOCAL_FILES_PATH = '/data/local-files/';

export function imageRefFor(uri: string, documentRoot: string): ImageRef {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.toLowerCase().startsWith('file://')) {
    return { kind: 'remote', url: uri };
  }
  const path = uri.toLowerCase().startsWith('file://') ? fileURLToPath(uri) : uri;
  if (!isAbsolute(path)) {
    throw new RprError(
      'RPR_CONFIG',
      `image '${uri}' is a relative path; Label Studio needs an absolute path under its document root, or an http(s) URL`,
      { uri },
    );
  }
  const normalized = normalize(documentRoot);
  const root = normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized;
  const rel = relative(root, normalize(path));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new RprError(
      'RPR_CONFIG',
      `image '${path}' lies outside Label Studio's document root '${root}': start Label Studio with LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT covering it (and set the sink's documentRoot to match), or serve the images over http(s)`,
      { uri, documentRoot: root },
    );
  }
  const directory = dirname(normalize(path));
  if (directory === root) {
    throw new RprError(
      'RPR_CONFIG',
      `image '${path}' sits directly in the document root '${root}'; Label Studio serves local files only from a subdirectory of it: move the images into one`,
      { uri, documentRoot: root },
    );
  }
  const query = rel.split(sep).map(encodeURIComponent).join('/');
  return { kind: 'local', url: `${LOCAL_FILES_PATH}?d=${query}`, directory };
}

/**
 * The directories Local Files storages should cover for `directories`: their deepest common ancestor when
 * it lies below the document root (one storage for a whole pool), else each directory itself.
 */
export function storageDirectories(directories: readonly string[], documentRoot: string): string[] {
  const unique = [...new Set(directories.map((d) => normalize(d)))];
  if (unique.length <= 1) return unique;
  const split = unique.map((d) => d.split(sep));
  let depth = 0;
  while (split.every((parts) => parts.length > depth && parts[depth] === split[0]![depth])) depth++;
  const common = split[0]!.slice(0, depth).join(sep) || sep;
  const root = normalize(documentRoot).replace(/(.)\/+$/, '$1');
  return common !== root && relative(root, common) !== '' && !relative(root, common).startsWith('..') ? [common] : unique;
}

