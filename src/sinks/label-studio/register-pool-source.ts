/**
 * Makes a Label Studio project usable as a pool: `--pool label-studio:<project id or title>` reads the
 * project's unfinished tasks from the server in LABEL_STUDIO_URL with the key in LABEL_STUDIO_API_KEY
 * (the same variables the sink reads). Registered once, when the sinks module loads.
 */
import { SECRET_ENV } from '../../config/index.js';
import { RprError } from '../../errors/index.js';
import { poolSourceKindNames, registerPoolSourceKind, type PoolSourceKind } from '../../pool/index.js';
import { LabelStudioPoolSource } from './label-studio-pool-source.js';

export const LABEL_STUDIO_POOL_KIND = 'label-studio';

/** The pool kind, reading the server and key from `env` when a pool is opened. */
export function labelStudioPoolKind(env: Readonly<Record<string, string | undefined>> = process.env): PoolSourceKind {
  return {
    name: LABEL_STUDIO_POOL_KIND,
    usage: `${LABEL_STUDIO_POOL_KIND}:<project id or title> (the project's unlabeled tasks, from $LABEL_STUDIO_URL with $${SECRET_ENV.labelStudioApiKey})`,
    // Only ever chosen by its prefix: no bare path is a Label Studio project.
    detect: async () => false,
    async create(target) {
      const url = env['LABEL_STUDIO_URL'];
      const apiKey = env[SECRET_ENV.labelStudioApiKey];
      if (!url || !apiKey) {
        throw new RprError(
          'RPR_CONFIG',
          `pool '${LABEL_STUDIO_POOL_KIND}:${target}' needs the server and a key: set LABEL_STUDIO_URL and ${SECRET_ENV.labelStudioApiKey}`,
          { key: 'pool.path' },
        );
      }
      const project = /^\d+$/.test(target.trim()) ? Number(target.trim()) : target;
      return new LabelStudioPoolSource({ url, apiKey, project });
    },
  };
}

/** Registers the kind unless it already is (the module may be loaded twice, as source and as build). */
export function registerLabelStudioPoolSource(): void {
  if (!poolSourceKindNames().includes(LABEL_STUDIO_POOL_KIND)) registerPoolSourceKind(labelStudioPoolKind());
}
