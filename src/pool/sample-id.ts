import { createHash } from 'node:crypto';

/** The stable sample id: sha256 hex of the image bytes, so a moved file is the same sample. */
export function sampleId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
