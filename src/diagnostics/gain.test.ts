import { createRng } from '../util/rng.js';
import { classifyGainTrend } from './gain-trend.js';
import { gainOverCheckpoints, spectralGain, type BatchForward, type ImageShape } from './gain.js';

const shape: ImageShape = { height: 12, width: 16, channels: 2 };
const size = shape.height * shape.width * shape.channels;

function probes(count: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: size }, () => rng.next()));
}

const scaled =
  (k: number): BatchForward =>
  async (batch, n) =>
    Float32Array.from(batch.subarray(0, n * size), (v) => k * v);

/** 3-tap circular box blur along the width axis, per channel: the whole blurred image is the output. */
const boxBlurX: BatchForward = async (batch, n) => {
  const { height: h, width: w, channels: c } = shape;
  const out = new Float32Array(n * size);
  for (let b = 0; b < n; b++) {
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        for (let ch = 0; ch < c; ch++) {
          const at = (cc: number) => batch[b * size + (row * w + ((cc + w) % w)) * c + ch]!;
          out[b * size + (row * w + col) * c + ch] = (at(col - 1) + at(col) + at(col + 1)) / 3;
        }
      }
    }
  }
  return out;
};

describe('spectralGain', () => {
  it('is 1 at every radius for the identity network, and k for a network that scales by k', async () => {
    const x = probes(3, 1);
    const identity = await spectralGain(scaled(1), x, shape, { batchSize: 50 });
    expect(identity.radii).toEqual([1, 2, 3, 4, 5, 6]);
    identity.gain.forEach((g) => expect(Math.abs(g - 1)).toBeLessThan(1e-5));
    identity.gainStd.forEach((s) => expect(s).toBeLessThan(1e-5));
    const triple = await spectralGain(scaled(3), x, shape, { batchSize: 7 });
    triple.gain.forEach((g) => expect(Math.abs(g - 3)).toBeLessThan(1e-4));
    expect(Math.abs(triple.meanGain - 3)).toBeLessThan(1e-4);
  });

  // Three orientations (0°, 60°, 120°) are not symmetric under swapping the axes, so they also pin which
  // axis is the width; eight is the default.
  it.each([3, 8])("equals a circular box blur's analytic response |1 + 2cos(2πkx/W)|/3 averaged over %p orientations and 4 phases", async (orientations) => {
    const phases = 4;
    const curve = await spectralGain(boxBlurX, probes(2, 2), shape, { orientations, phases, batchSize: 64 });
    curve.radii.forEach((r, i) => {
      // The documented patterns: wave vector (round(r·cosθ), round(r·sinθ)) cycles per image along (width,
      // height), θ = πa/orientations, φ = 2πp/4; a pattern at Nyquist or 0 on both axes vanishes when cos φ = 0.
      let sum = 0;
      let count = 0;
      for (let a = 0; a < orientations; a++) {
        const kx = Math.round(r * Math.cos((Math.PI * a) / orientations));
        const ky = Math.round(r * Math.sin((Math.PI * a) / orientations));
        const degenerate = (2 * kx) % shape.width === 0 && (2 * ky) % shape.height === 0;
        for (let p = 0; p < phases; p++) {
          if (degenerate && Math.abs(Math.cos((2 * Math.PI * p) / phases)) < 1e-9) continue;
          sum += Math.abs(1 + 2 * Math.cos((2 * Math.PI * kx) / shape.width)) / 3;
          count += 1;
        }
      }
      expect(curve.patternsPerRadius[i]).toBe(count);
      expect(Math.abs(curve.gain[i]! - sum / count)).toBeLessThan(1e-4);
    });
    // The blur passes low frequencies and stops high ones along the width.
    expect(curve.gain[0]!).toBeGreaterThan(curve.gain[5]!);
  });

  it('validates probes, options and what the forward function returns', async () => {
    await expect(spectralGain(scaled(1), [], shape)).rejects.toMatchObject({ code: 'RPR_USAGE' });
    await expect(spectralGain(scaled(1), [new Float32Array(5)], shape)).rejects.toMatchObject({ code: 'RPR_INPUT_SHAPE' });
    await expect(spectralGain(scaled(1), probes(1, 3), shape, { relativeEpsilon: 0 })).rejects.toMatchObject({ code: 'RPR_USAGE' });
    await expect(spectralGain(scaled(1), probes(1, 3), shape, { radii: [0.5] })).rejects.toMatchObject({ code: 'RPR_USAGE' });
    await expect(spectralGain(scaled(1), probes(1, 3), shape, { radii: [7] })).rejects.toMatchObject({ code: 'RPR_USAGE' });
    const huge = [Float32Array.from({ length: size }, () => 1e30)];
    await expect(spectralGain(scaled(1), huge, shape, { relativeEpsilon: 1e-12 })).rejects.toMatchObject({ code: 'RPR_NUMERIC' });
    const broken: BatchForward = async (_b, n) => new Float32Array(n * 3 + 1);
    await expect(spectralGain(broken, probes(1, 3), shape)).rejects.toMatchObject({ code: 'RPR_BACKEND' });
  });
});

describe('gainOverCheckpoints', () => {
  it('returns a curve per checkpoint and classifies the trend of the scalar gain', async () => {
    const result = await gainOverCheckpoints(
      [
        { name: 'epoch-1', forward: scaled(1) },
        { name: 'epoch-2', forward: scaled(2) },
        { name: 'epoch-3', forward: scaled(2.04) },
      ],
      probes(1, 4),
      shape,
      { radii: [1, 4], orientations: 2, phases: 2 },
    );
    expect(result.curves.map((c) => c.name)).toEqual(['epoch-1', 'epoch-2', 'epoch-3']);
    expect(result.curves[1]!.curve.gain.map((g) => Math.round(g * 1000) / 1000)).toEqual([2, 2]);
    expect(result.trend.kind).toBe('rising-then-saturating');
  });
});

describe('classifyGainTrend', () => {
  it.each([
    [[1, 2, 3, 3.05, 3.06], 'rising-then-saturating'],
    [[1, 2, 3, 4], 'still-rising'],
    [[1, 2, 1.5, 2.5, 1.8], 'fluctuating'],
    [[1, 2, 2.02, 1.5], 'fluctuating'],
    [[1, 1.01, 1.0], 'flat'],
    [[3, 2, 1], 'falling'],
    [[1, 2], 'too-few-checkpoints'],
  ])('%p → %s', (values, kind) => {
    const trend = classifyGainTrend(values);
    expect(trend.kind).toBe(kind);
    expect(trend.relativeSteps).toHaveLength(values.length - 1);
  });

  it('counts reversals and honours the tolerance', () => {
    expect(classifyGainTrend([1, 2, 1, 2, 1]).reversals).toBe(3);
    expect(classifyGainTrend([1, 1.1, 1.0], { trendTolerance: 0.2 }).kind).toBe('flat');
  });
});
