/**
 * A segmentation task built from real digits: one MNIST digit pasted onto clutter made of fragments of
 * other digits and uniform noise. The mask is the pasted digit's own pixels above 0.5, so the network
 * must tell a whole digit from loose strokes of the same intensity.
 */
import type { Digit } from '../pool/index.js';
import type { Rng } from '../util/rng.js';

const SIDE = 28;

export interface SegmentationImage {
  /** 28×28 pixels in [0, 1]. */
  readonly pixels: Float32Array;
  /** 28×28 values in {0, 1}. */
  readonly mask: Float32Array;
}

export interface ClutterOptions {
  /** Fragments of other digits per image. @defaultValue 3 */
  readonly fragments?: number;
  /** Side of a square fragment in pixels. @defaultValue 10 */
  readonly fragmentSide?: number;
  /** Uniform noise amplitude. @defaultValue 0.2 */
  readonly noise?: number;
}

/** The target digit over clutter cut from `others` (pixel-wise maximum; a draw of the target itself is skipped), with its mask. */
export function clutteredDigit(target: Digit, others: readonly Digit[], rng: Rng, options: ClutterOptions = {}): SegmentationImage {
  const fragments = options.fragments ?? 3;
  const side = options.fragmentSide ?? 10;
  const noise = options.noise ?? 0.2;
  const pixels = new Float32Array(SIDE * SIDE);
  for (let i = 0; i < pixels.length; i++) pixels[i] = noise * rng.next();
  for (let f = 0; f < fragments && others.length > 0; f++) {
    const other = others[rng.int(others.length)]!;
    if (other === target) continue;
    const source = other.pixels;
    // Cut from the middle of the source, where its strokes are, and drop it anywhere.
    const [sy, sx] = [4 + rng.int(SIDE - 8 - side + 1), 4 + rng.int(SIDE - 8 - side + 1)];
    const [dy, dx] = [rng.int(SIDE - side + 1), rng.int(SIDE - side + 1)];
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const to = (dy + y) * SIDE + dx + x;
        pixels[to] = Math.max(pixels[to]!, source[(sy + y) * SIDE + sx + x]!);
      }
    }
  }
  const mask = new Float32Array(SIDE * SIDE);
  for (let i = 0; i < pixels.length; i++) {
    const v = target.pixels[i]!;
    pixels[i] = Math.max(pixels[i]!, v);
    mask[i] = v > 0.5 ? 1 : 0;
  }
  return { pixels, mask };
}

/** One cluttered image per digit of `targets`, clutter cut from the other digits of the same list. */
export function clutteredSet(targets: readonly Digit[], rng: Rng, options: ClutterOptions = {}): SegmentationImage[] {
  return targets.map((target) => clutteredDigit(target, targets, rng, options));
}
