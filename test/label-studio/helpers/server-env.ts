/**
 * The real Label Studio the integration tests run against, as `eval "$(scripts/label-studio.sh start)"`
 * exports it, and why a suite or a test cannot run when part of it is missing.
 */
export const URL = process.env['LABEL_STUDIO_URL'] ?? '';
/** The legacy token. */
export const KEY = process.env['LABEL_STUDIO_API_KEY'] ?? '';
/** A personal access token (a JWT refresh token), empty when the server was started without one. */
export const PAT = process.env['LABEL_STUDIO_PAT'] ?? '';
/** The root of the server's /data/local-files/?d=… URLs: the pools of these tests must lie below it. */
export const DOCUMENT_ROOT = process.env['LABEL_STUDIO_DOCUMENT_ROOT'] ?? '/';
export const ENABLED = URL !== '' && KEY !== '';
export const REASON = 'Label Studio did not start: LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY are not set (eval "$(scripts/label-studio.sh start)")';
/** Why the tests that need a personal access token cannot run, or null when they can (or nothing can). */
export const NO_PAT = ENABLED && PAT === '' ? 'LABEL_STUDIO_PAT is not set (scripts/label-studio.sh start prints it)' : null;
