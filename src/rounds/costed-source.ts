import { errors } from '../errors/index.js';
import type { PoolEntry, PoolSource } from '../pool/types.js';
import type { ImageCost } from './image-cost.js';

/** A pool source that measures each image's cost on the way to the scorer. */
export interface CostedSource {
  readonly source: PoolSource;
  /** The cost of the image at `uri`, forgotten once taken (so memory holds only images in flight). */
  take(uri: string): number;
  /** Drops the cost of an image that was skipped. */
  forget(uri: string): void;
}

/** With a constant cost the source passes through untouched; otherwise costs are measured from the bytes. */
export function costedSource(source: PoolSource, cost: ImageCost): CostedSource {
  if (!cost.variable) return { source, take: () => cost.minCost, forget: () => undefined };
  const pending = new Map<string, number>();
  return {
    source: {
      description: source.description,
      async *entries(signal?: AbortSignal): AsyncGenerator<PoolEntry, void, undefined> {
        for await (const entry of source.entries(signal)) {
          if (entry.kind === 'image') pending.set(entry.uri, await cost.of(entry.bytes));
          yield entry;
        }
      },
    },
    take(uri) {
      const value = pending.get(uri);
      if (value === undefined) throw errors.internal(`no cost was measured for ${uri}: the scorer returned an image its source did not yield`);
      pending.delete(uri);
      return value;
    },
    forget(uri) {
      pending.delete(uri);
    },
  };
}
