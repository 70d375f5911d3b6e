/** What a pool source yields: raw bytes of one image with where it came from, or why it was skipped. */
export type PoolEntry =
  | { readonly kind: 'image'; readonly uri: string; readonly bytes: Buffer }
  | { readonly kind: 'skipped'; readonly uri: string; readonly reason: string };

/** A stream of images: a directory, a manifest, a Label Studio project… Streams with bounded memory. */
export interface PoolSource {
  /** For messages: the directory path, manifest path or project. */
  readonly description: string;
  entries(signal?: AbortSignal): AsyncIterable<PoolEntry>;
}

/** How image bytes become the network's input tensor. Part of every cache key via its digest. */
export interface Preprocessing {
  /** Target size; images of another size are resized (fill). */
  readonly width: number;
  readonly height: number;
  /** 1 = grayscale, 3 = RGB. */
  readonly channels: 1 | 3;
  /** Multiplier applied to 0..255 pixel values; 1/255 maps to [0, 1]. */
  readonly scale: number;
  /** Per-channel mean subtracted after scaling. */
  readonly mean: readonly number[];
  /** Per-channel std divided by after the mean. */
  readonly std: readonly number[];
}

/** A decoded, preprocessed image ready for the network. */
export interface Sample {
  /** sha256 hex of the image bytes. */
  readonly id: string;
  readonly uri: string;
  /** HWC float32, length width·height·channels. */
  readonly pixels: Float32Array;
}

/** An image that could not be used, and why (reported, never silently dropped). */
export interface Skipped {
  readonly uri: string;
  readonly id: string | null;
  readonly reason: string;
}
