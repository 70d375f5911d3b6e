/**
 * A digest of everything that determines A[x]: the topology, every op attribute and every weight byte.
 * Two files holding the same network get the same digest, so caches survive a re-export.
 */
import { createHash } from 'node:crypto';
import type { IRNode } from './ir.js';

function isTypedArray(v: unknown): v is Float32Array {
  return v instanceof Float32Array;
}

export function irDigest(nodes: readonly IRNode[], output: number): string {
  const hash = createHash('sha256');
  const arrays: Float32Array[] = [];
  const topology = JSON.stringify(
    { output, nodes: nodes.map((n) => ({ op: n.op, inputs: n.inputs, shape: n.shape })) },
    (_key, value: unknown) => {
      if (isTypedArray(value)) {
        arrays.push(value);
        return `#${arrays.length - 1}`;
      }
      return value;
    },
  );
  hash.update(topology);
  for (const a of arrays) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return hash.digest('hex');
}
