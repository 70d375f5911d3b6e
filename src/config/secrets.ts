import { errors } from '../errors/index.js';

/** Secrets come only from the environment; a config file is often committed or shared. */
export interface Secrets {
  /** From LABEL_STUDIO_API_KEY. */
  readonly labelStudioApiKey: string | null;
}

export const SECRET_ENV = { labelStudioApiKey: 'LABEL_STUDIO_API_KEY' } as const;

export function readSecrets(env: NodeJS.ProcessEnv): Secrets {
  const key = env[SECRET_ENV.labelStudioApiKey];
  return { labelStudioApiKey: key === undefined || key === '' ? null : key };
}

const SECRET_KEY = /(api[-_]?key|token|secret|passw(or)?d|credentials?|auth)$/i;

/**
 * Refuses a config object holding something that looks like a secret: a key named like one, or a URL
 * with a password in it. Runs before schema validation, so the message says why instead of "unknown key".
 */
export function assertNoSecrets(value: unknown, origin: string, path: readonly string[] = []): void {
  if (typeof value === 'string' && path.length > 0 && hasUrlPassword(value)) {
    throw errors.config(
      `${origin}: key '${path.join('.')}' holds a URL with a password; remove it and set ${SECRET_ENV.labelStudioApiKey} in the environment instead`,
      { key: path.join('.') },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const at = [...path, key];
    if (SECRET_KEY.test(key)) {
      throw errors.config(
        `${origin}: key '${at.join('.')}' looks like a secret; secrets are never read from a config file: remove it and set ${SECRET_ENV.labelStudioApiKey} (or the service's variable) in the environment`,
        { key: at.join('.') },
      );
    }
    assertNoSecrets(child, origin, at);
  }
}

function hasUrlPassword(text: string): boolean {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return false;
  try {
    return new URL(text).password !== '';
  } catch {
    return false;
  }
}
