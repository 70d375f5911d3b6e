/**
 * The installed package's root, found from this file's location (src/ under ts-jest, dist/src/ when
 * built), so bundled assets such as models/mnist-cnn resolve whatever the working directory is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'rpr-select') {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('rpr-select: cannot find the package root (package.json) above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The bundled demo model. */
export function bundledModelPath(): string {
  return join(packageRoot(), 'models', 'mnist-cnn');
}
