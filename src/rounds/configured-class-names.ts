import type { ResolvedConfig } from '../config/index.js';

/** The configured model's class names from its metadata.json, read without loading TF.js. */
export async function configuredClassNames(config: ResolvedConfig): Promise<readonly string[] | undefined> {
  const { readModelMetadata } = await import('../model/load-model.js');
  return (await readModelMetadata(config.model.path).catch(() => null))?.classNames;
}
