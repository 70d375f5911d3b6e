/**
 * Spectral gain of a network, inspired by Stamatescu & McDonnell, "Diagnosing Convolutional Neural
 * Networks using their Spectral Response" (arXiv:1810.03241). Their exact formula was not available;
 * this is our definition (see reference/conv-svd-and-gain.md §B.4):
 *
 *   G(r) = mean over probe images x, orientations θ and phases φ of ‖f(x + ε·s) − f(x)‖ / ‖ε·s‖
 *
 * with s a unit-RMS sinusoid cos(2π(kx·col/W + ky·row/H) + φ), the same on every channel, at radius r
 * cycles per image. The wave vector is snapped to integers, (kx, ky) = (round(r·cos θ), round(r·sin θ)),
 * so each perturbation is a pure 2-D DFT mode: periodic on the image, and an eigenfunction of any
 * circular shift-invariant layer (a linear circular filter's gain is exactly its frequency response
 * magnitude). θ runs over `orientations` angles in [0, π) (θ + π is the same wave), φ over `phases`
 * angles in [0, 2π); a pattern that vanishes on the grid (Nyquist in both axes with cos φ = 0) is
 * skipped. ε = relativeEpsilon · RMS(x), so ‖ε·s‖ = relativeEpsilon·‖x‖; forward differences, in
 * whatever output f returns (logits by default in our executors).
 */
import { RprError } from '../errors/index.js';
import { positiveInteger } from './check-option.js';
import { classifyGainTrend, type GainTrend, type GainTrendOptions } from './gain-trend.js';

export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** n images of shape [H, W, C] (row-major, concatenated) in; n × m outputs out. */
export type BatchForward = (batch: Float32Array, n: number) => Promise<Float32Array>;

export interface GainOptions {
  /**
   * Radii in cycles per image.
   * @defaultValue 1, 2, …, floor(min(H, W)/2)
   */
  readonly radii?: readonly number[];
  /** @defaultValue 8 */
  readonly orientations?: number;
  /** @defaultValue 4 */
  readonly phases?: number;
  /**
   * ‖ε·s‖ / ‖x‖; for an all-zero probe, the absolute RMS amplitude of the perturbation.
   * @defaultValue 1e-2
   */
  readonly relativeEpsilon?: number;
  /**
   * Images per forward call.
   * @defaultValue 64
   */
  readonly batchSize?: number;
}

export interface GainPattern {
  readonly radius: number;
  readonly kx: number;
  readonly ky: number;
  readonly phase: number;
}

export interface GainCurve {
  readonly radii: readonly number[];
  /** Mean gain per radius. */
  readonly gain: readonly number[];
  /** Standard deviation over probe images of each image's mean gain at that radius. */
  readonly gainStd: readonly number[];
  /** Mean of `gain` over radii: the scalar gain. */
  readonly meanGain: number;
  /** Patterns averaged per radius (orientations × phases minus vanishing ones). */
  readonly patternsPerRadius: readonly number[];
  readonly probes: number;
  readonly relativeEpsilon: number;
}

/** The unit-RMS pattern on the H × W grid, row-major; null when it vanishes on the grid. */
export function sinusoid(pattern: GainPattern, shape: ImageShape): Float64Array | null {
  const { height, width } = shape;
  const s = new Float64Array(height * width);
  let sumSq = 0;
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const v = Math.cos(2 * Math.PI * ((pattern.kx * col) / width + (pattern.ky * row) / height) + pattern.phase);
      s[row * width + col] = v;
      sumSq += v * v;
    }
  }
  const rms = Math.sqrt(sumSq / s.length);
  if (rms < 1e-6) return null;
  for (let i = 0; i < s.length; i++) s[i] = s[i]! / rms;
  return s;
}

/** Every (radius, orientation, phase) pattern that does not vanish on the grid, radius-major. */
export function gainPatterns(shape: ImageShape, options: GainOptions = {}): GainPattern[] {
  const orientations = positiveInteger('gain', 'orientations', options.orientations ?? 8);
  const phases = positiveInteger('gain', 'phases', options.phases ?? 4);
  const maxRadius = Math.floor(Math.min(shape.height, shape.width) / 2);
  const radii = options.radii ?? Array.from({ length: maxRadius }, (_, i) => i + 1);
  // Below 1 cycle the snapped wave is constant; above min(H, W)/2 it aliases to a lower frequency.
  if (radii.length === 0 || radii.some((r) => !(r >= 1 && r <= maxRadius))) {
    throw new RprError(
      'RPR_USAGE',
      `gain: radii must lie in [1, ${maxRadius}] cycles per image for a ${shape.height}×${shape.width} image, got [${radii.join(', ')}]`,
      { radii: radii.join(',') },
    );
  }
  const patterns: GainPattern[] = [];
  for (const radius of radii) {
    for (let a = 0; a < orientations; a++) {
      const theta = (Math.PI * a) / orientations;
      const kx = Math.round(radius * Math.cos(theta));
      const ky = Math.round(radius * Math.sin(theta));
      for (let p = 0; p < phases; p++) {
        const pattern = { radius, kx, ky, phase: (2 * Math.PI * p) / phases };
        if (sinusoid(pattern, shape) !== null) patterns.push(pattern);
      }
    }
  }
  return patterns;
}

function checkProbes(probes: readonly Float32Array[], shape: ImageShape): void {
  for (const key of ['height', 'width', 'channels'] as const) positiveInteger('gain', `image ${key}`, shape[key]);
  if (probes.length === 0) throw new RprError('RPR_USAGE', 'gain: no probe images were given; pass at least one', {});
  const size = shape.height * shape.width * shape.channels;
  probes.forEach((p, i) => {
    if (p.length !== size) {
      throw new RprError(
        'RPR_INPUT_SHAPE',
        `gain: probe image #${i} has ${p.length} values, expected ${shape.height}×${shape.width}×${shape.channels} = ${size}`,
        { probe: i, values: p.length, expected: size },
      );
    }
  });
}

/** One forward input: a probe image, or that image plus ε times a pattern. */
interface Job {
  readonly probe: number;
  /** Index into the pattern list; −1 for the unperturbed image. */
  readonly pattern: number;
}

/** The gain curve of one network over the probe images. */
export async function spectralGain(
  forward: BatchForward,
  probes: readonly Float32Array[],
  shape: ImageShape,
  options: GainOptions = {},
): Promise<GainCurve> {
  checkProbes(probes, shape);
  const relativeEpsilon = options.relativeEpsilon ?? 1e-2;
  if (!(relativeEpsilon > 0) || !Number.isFinite(relativeEpsilon)) {
    throw new RprError('RPR_USAGE', `gain: relativeEpsilon must be a positive number, got ${relativeEpsilon}`, {});
  }
  const batchSize = positiveInteger('gain', 'batchSize', options.batchSize ?? 64);
  const patterns = gainPatterns(shape, options);
  const radii = [...new Set(patterns.map((p) => p.radius))];
  const radiusIndex = new Map(radii.map((r, i) => [r, i]));
  const { height, width, channels } = shape;
  const pixels = height * width;
  const size = pixels * channels;

  const epsilons = probes.map((x) => {
    const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / size);
    return relativeEpsilon * (rms > 0 ? rms : 1);
  });
  // Unperturbed images first, then pattern-major, so each sinusoid is built once and reused for all probes.
  const jobs: Job[] = probes.map((_, probe) => ({ probe, pattern: -1 }));
  patterns.forEach((_, pattern) => probes.forEach((__, probe) => jobs.push({ probe, pattern })));
  let cached: { pattern: number; values: Float64Array } | null = null;
  const sinusoidOf = (pattern: number): Float64Array => {
    if (cached?.pattern !== pattern) cached = { pattern, values: sinusoid(patterns[pattern]!, shape)! };
    return cached.values;
  };

  // sums[probe][radius] of gain ratios; every probe sees the same patterns, so counts are shared.
  const sums = probes.map(() => new Float64Array(radii.length));
  const counts = new Float64Array(radii.length);
  for (const p of patterns) counts[radiusIndex.get(p.radius)!] += 1;
  const base: (Float32Array | null)[] = probes.map(() => null);
  const perturbationNorms = new Float64Array(batchSize);
  const batch = new Float32Array(batchSize * size);
  let outputSize = 0;

  for (let start = 0; start < jobs.length; start += batchSize) {
    const chunk = jobs.slice(start, start + batchSize);
    chunk.forEach((job, b) => {
      const x = probes[job.probe]!;
      const offset = b * size;
      if (job.pattern < 0) {
        batch.set(x, offset);
        return;
      }
      const s = sinusoidOf(job.pattern);
      const eps = epsilons[job.probe]!;
      let norm2 = 0;
      for (let px = 0; px < pixels; px++) {
        for (let c = 0; c < channels; c++) {
          const i = px * channels + c;
          batch[offset + i] = x[i]! + eps * s[px]!;
          const d = batch[offset + i]! - x[i]!;
          norm2 += d * d;
        }
      }
      if (!(norm2 > 0)) {
        throw new RprError(
          'RPR_NUMERIC',
          `gain: a perturbation of relative size ${relativeEpsilon} vanished in float32 on probe #${job.probe}; raise relativeEpsilon`,
          { probe: job.probe, relativeEpsilon },
        );
      }
      perturbationNorms[b] = Math.sqrt(norm2);
    });
    const n = chunk.length;
    const out = await forward(n === batchSize ? batch : batch.subarray(0, n * size), n);
    if (outputSize === 0) outputSize = out.length / n;
    if (!Number.isInteger(outputSize) || outputSize < 1 || out.length !== n * outputSize) {
      throw new RprError(
        'RPR_BACKEND',
        `gain: the forward function returned ${out.length} values for ${n} images; expected a whole, constant number per image`,
        { values: out.length, images: n },
      );
    }
    chunk.forEach((job, b) => {
      const y = out.subarray(b * outputSize, (b + 1) * outputSize);
      if (job.pattern < 0) {
        base[job.probe] = Float32Array.from(y);
        return;
      }
      const y0 = base[job.probe]!;
      let diff2 = 0;
      for (let i = 0; i < outputSize; i++) diff2 += (y[i]! - y0[i]!) ** 2;
      sums[job.probe]![radiusIndex.get(patterns[job.pattern]!.radius)!] += Math.sqrt(diff2) / perturbationNorms[b]!;
    });
  }

  const gain: number[] = [];
  const gainStd: number[] = [];
  radii.forEach((_, r) => {
    const perProbe = sums.map((s) => s[r]! / counts[r]!);
    const mean = perProbe.reduce((a, b) => a + b, 0) / perProbe.length;
    gain.push(mean);
    gainStd.push(Math.sqrt(perProbe.reduce((a, g) => a + (g - mean) ** 2, 0) / perProbe.length));
  });
  return {
    radii,
    gain,
    gainStd,
    meanGain: gain.reduce((a, b) => a + b, 0) / gain.length,
    patternsPerRadius: [...counts],
    probes: probes.length,
    relativeEpsilon,
  };
}

export interface GainCheckpoint {
  readonly name: string;
  readonly forward: BatchForward;
}

export interface GainOverCheckpoints {
  readonly curves: readonly { readonly name: string; readonly curve: GainCurve }[];
  /** The trend of the scalar gain over the checkpoints, in the order given (oldest first). */
  readonly trend: GainTrend;
}

/** Gain curves of several checkpoints of one network on the same probes, and their trend. */
export async function gainOverCheckpoints(
  checkpoints: readonly GainCheckpoint[],
  probes: readonly Float32Array[],
  shape: ImageShape,
  options: GainOptions & GainTrendOptions = {},
): Promise<GainOverCheckpoints> {
  const curves: { name: string; curve: GainCurve }[] = [];
  for (const c of checkpoints) curves.push({ name: c.name, curve: await spectralGain(c.forward, probes, shape, options) });
  return { curves, trend: classifyGainTrend(curves.map((c) => c.curve.meanGain), options) };
}
