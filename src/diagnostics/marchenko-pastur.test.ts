import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { createRng } from '../util/rng.js';
import { esdFromSingularValues, esdHistogram } from './esd.js';
import { fitMarchenkoPastur, mpCdf, mpCurve, mpDensity, mpQuantile } from './marchenko-pastur.js';

/** Midpoint rule over the support, fine enough for the square-root endpoints. */
function integrate(f: (x: number) => number, a: number, b: number, n = 200_000): number {
  const h = (b - a) / n;
  let s = 0;
  for (let i = 0; i < n; i++) s += f(a + (i + 0.5) * h);
  return s * h;
}

/** Singular values of a rows × cols (rows ≤ cols) matrix from the eigenvalues of its Gram matrix W·Wᵀ. */
function singularValuesOf(rows: number, cols: number, w: Float64Array): number[] {
  const gram = new Matrix(rows, rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += w[i * cols + k]! * w[j * cols + k]!;
      gram.set(i, j, s);
      gram.set(j, i, s);
    }
  }
  return new EigenvalueDecomposition(gram, { assumeSymmetric: true }).realEigenvalues.map((l) => Math.sqrt(Math.max(0, l)));
}

function gaussianMatrix(rows: number, cols: number, sigma: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = sigma * rng.normal();
  return a;
}

describe('Marchenko–Pastur law', () => {
  it('has unit mass, mean s² and second moment s⁴(1 + 1/Q) (closed-form MP moments)', () => {
    const [q, s2] = [2.5, 0.49];
    const hi = s2 * (1 + 1 / Math.sqrt(q)) ** 2;
    expect(integrate((x) => mpDensity(x, q, s2), 0, hi)).toBeCloseTo(1, 4);
    expect(integrate((x) => x * mpDensity(x, q, s2), 0, hi)).toBeCloseTo(s2, 4);
    expect(integrate((x) => x * x * mpDensity(x, q, s2), 0, hi)).toBeCloseTo(s2 * s2 * (1 + 1 / q), 4);
    expect(mpDensity(hi * 1.01, q, s2)).toBe(0);
  });

  it('CDF agrees with integrating the density, and the quantile inverts it', () => {
    const [q, s2] = [4, 2];
    for (const x of [0.6, 1.5, 2.5, 3.5]) {
      expect(mpCdf(x, q, s2)).toBeCloseTo(integrate((t) => mpDensity(t, q, s2), 0, x), 4);
    }
    for (const p of [0.1, 0.5, 0.9]) expect(mpCdf(mpQuantile(p, q, s2), q, s2)).toBeCloseTo(p, 6);
  });

  it('square case Q = 1: the median matches the closed-form CDF (2/π)(θ + sinθ·cosθ), x = 4s²·sin²θ', () => {
    let [a, b] = [0, Math.PI / 2];
    for (let i = 0; i < 100; i++) {
      const m = (a + b) / 2;
      if ((2 / Math.PI) * (m + Math.sin(m) * Math.cos(m)) < 0.5) a = m;
      else b = m;
    }
    expect(mpQuantile(0.5, 1, 1)).toBeCloseTo(4 * Math.sin(a) ** 2, 5);
  });
});

describe('esd + fitMarchenkoPastur', () => {
  const [m, n, sigma] = [400, 1000, 0.7];
  const w = gaussianMatrix(m, n, sigma, 42);

  it('normalizes λ = σ²/N with N the larger dimension', () => {
    const esd = esdFromSingularValues([2, 1], 3, 8);
    expect(esd.eigenvalues).toEqual([0.5, 0.125]);
    expect([esd.n, esd.m, esd.q]).toEqual([8, 3, 8 / 3]);
  });

  it('recovers s² within 5% on a 400 × 1000 Gaussian matrix (σ = 0.7) with no spikes', () => {
    const esd = esdFromSingularValues(singularValuesOf(m, n, w), m, n);
    const fit = fitMarchenkoPastur(esd);
    expect(Math.abs(fit.sigma2 / (sigma * sigma) - 1)).toBeLessThan(0.05);
    expect(fit.spikes).toBe(0);
    expect(fit.lambdaPlus).toBeCloseTo(fit.sigma2 * (1 + Math.sqrt(m / n)) ** 2, 12);
    expect(fit.spikeThreshold).toBeGreaterThan(fit.lambdaPlus);
    // The histogram of a random matrix sits under the fitted curve: compare mass in each half of the support.
    const half = (fit.lambdaMinus + fit.lambdaPlus) / 2;
    const below = esd.eigenvalues.filter((l) => l <= half).length / esd.eigenvalues.length;
    expect(below).toBeCloseTo(mpCdf(half, fit.q, fit.sigma2), 1);
  });

  it('finds three planted spikes above the edge and keeps s²', () => {
    const rng = createRng(7);
    const unit = (len: number) => {
      const v = Array.from({ length: len }, () => rng.normal());
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    const spiked = Float64Array.from(w);
    // Strengths well above the detectability threshold σ·(N·M)^{1/4} ≈ 17.6.
    for (const d of [60, 80, 100]) {
      const a = unit(m);
      const b = unit(n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) spiked[i * n + j] += d * a[i]! * b[j]!;
    }
    const fit = fitMarchenkoPastur(esdFromSingularValues(singularValuesOf(m, n, spiked), m, n));
    expect(fit.spikes).toBe(3);
    expect(fit.eigenvaluesAboveLambdaPlus).toBe(3);
    expect(fit.bulkSize).toBe(m - 3);
    expect(Math.abs(fit.sigma2 / (sigma * sigma) - 1)).toBeLessThan(0.05);
    expect(fit.sigma2MaxPinned).toBeGreaterThan(fit.sigma2 * 2);
  });

  it('counts a weak spike between λ+ and the Tracy–Widom threshold above λ+ but not as a spike', () => {
    const base = singularValuesOf(m, n, w).sort((a, b) => b - a);
    const lambdaPlus = fitMarchenkoPastur(esdFromSingularValues(base, m, n)).lambdaPlus;
    // Three strong planted eigenvalues (≈ 4λ+) and a weak one replace the smallest. The weak one is placed
    // from the fit with it in the bulk: moving it within the bulk's top leaves the bulk median, so the fit, unchanged.
    const strong = [4, 4.5, 5].map((f) => Math.sqrt(f * lambdaPlus * n));
    const withWeak = (lambda: number) => esdFromSingularValues([...strong, Math.sqrt(lambda * n), ...base.slice(0, m - 4)], m, n);
    const first = fitMarchenkoPastur(withWeak(lambdaPlus));
    const weak = (first.lambdaPlus + first.spikeThreshold) / 2;
    const fit = fitMarchenkoPastur(withWeak(weak));
    // The noise alone stays under λ+ here, and the weak eigenvalue lies between the two thresholds.
    expect(base[0]! ** 2 / n).toBeLessThan(fit.lambdaPlus);
    expect(weak).toBeGreaterThan(fit.lambdaPlus);
    expect(weak).toBeLessThan(fit.spikeThreshold);
    expect(fit.lambdaPlus).toBeCloseTo(fit.sigma2 * (1 + Math.sqrt(m / n)) ** 2, 12);
    expect(fit.sigma2).toBe(first.sigma2);
    expect(fit.eigenvaluesAboveLambdaPlus).toBe(4);
    expect(fit.spikes).toBe(3);
  });

  it('histogram is a density and the MP curve spans the support', () => {
    const bins = esdHistogram([0.1, 0.2, 0.2, 0.9], 4, 1);
    expect(bins.map((b) => b.count)).toEqual([3, 0, 0, 1]);
    expect(bins.reduce((s, b) => s + b.density * (b.x1 - b.x0), 0)).toBeCloseTo(1, 12);
    const curve = mpCurve(fitMarchenkoPastur(esdFromSingularValues(singularValuesOf(20, 50, gaussianMatrix(20, 50, 1, 3)), 20, 50)), 10);
    expect(curve).toHaveLength(11);
    expect(curve.some((p) => p.density > 0)).toBe(true);
  });
});
