/**
 * The speed and memory targets of the issues, checked against one `npm run bench` run: each is met or
 * missed by a stated factor, or not measured with the reason.
 */
import type { BenchCaseRecord } from './bench-case-record.js';
import type { EnginesSection } from './engines-section.js';
import type { PeerComparison } from './peer-compare.js';
import type { PoolSizeSection } from './pool-rss.js';

export interface TargetCheck {
  /** The issue that sets the target. */
  readonly issue: number;
  readonly target: string;
  /** What was measured, with the numbers it comes from; or why nothing was. */
  readonly measured: string;
  readonly value: number | null;
  readonly goal: number;
  readonly direction: 'at-least' | 'at-most';
  /** null: not measured in this run. */
  readonly met: boolean | null;
  /** How far from the goal, as a factor (≥ 1), when missed. */
  readonly missedBy: number | null;
}

export interface TargetInputs {
  readonly cases: readonly BenchCaseRecord[];
  readonly engines: EnginesSection | null;
  readonly poolSize: PoolSizeSection | null;
  /** The PyTorch peer per model, when it ran. */
  readonly peers: Readonly<Record<string, PeerComparison>>;
  /** Why the peer did not run, when it did not. */
  readonly peerError: string | null;
  readonly demoModel: string;
  readonly models: readonly string[];
}

/**
 * The largest growth of RSS per extra image that still counts as flat: the set of ids seen takes 32–64
 * bytes per image by design (it drops duplicate files); the rest is slack for measurement noise.
 */
const FLAT_BYTES_PER_IMAGE = 100;
const MILLION = 1_000_000;

function check(issue: number, target: string, direction: TargetCheck['direction'], goal: number, value: number | null, measured: string): TargetCheck {
  if (value === null || !Number.isFinite(value)) return { issue, target, measured, value: null, goal, direction, met: null, missedBy: null };
  const met = direction === 'at-least' ? value >= goal : value <= goal;
  const missedBy = met ? null : direction === 'at-least' ? goal / value : value / goal;
  return { issue, target, measured, value, goal, direction, met, missedBy };
}

function find(cases: readonly BenchCaseRecord[], section: BenchCaseRecord['section'], name: string, model: string, workers = 1): BenchCaseRecord[] {
  return cases.filter((c) => c.section === section && c.case === name && c.model === model && c.workers === workers);
}

/** The case of this kind over the largest pool. */
function largest(cases: readonly BenchCaseRecord[]): BenchCaseRecord | undefined {
  return [...cases].sort((a, b) => b.poolSize - a.poolSize)[0];
}

const rate = (v: number) => `${v.toFixed(v < 100 ? 1 : 0)} images/s`;

function peerChecks(inputs: TargetInputs): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const notRun = `the PyTorch peer did not run: ${inputs.peerError ?? 'no reason recorded'}`;
  const demo = inputs.peers[inputs.demoModel];
  checks.push(
    demo
      ? check(7, `${inputs.demoModel}: exact per-sample RPR agrees with the PyTorch peer: max |RPR diff| < 1e-3`, 'at-most', 1e-3, demo.agreement.maxAbsRprDiff,
          `${demo.agreement.maxAbsRprDiff.toExponential(2)} over ${demo.agreement.images} images`)
      : check(7, 'exact per-sample RPR agrees with the PyTorch peer: max |RPR diff| < 1e-3', 'at-most', 1e-3, null, notRun),
  );
  const models = Object.keys(inputs.peers).length > 0 ? inputs.models.filter((m) => inputs.peers[m]) : [inputs.demoModel];
  for (const model of models) {
    const peer = inputs.peers[model];
    const ratio = peer ? peer.ratio.rprSelectPerSecond / peer.ratio.pytorchPerSecond : null;
    const measured = peer
      ? `${ratio!.toFixed(2)}×: ${rate(peer.ratio.rprSelectPerSecond)} on ${peer.backend} (2 worker threads) vs PyTorch ${rate(peer.ratio.pytorchPerSecond)} (2 threads), same images, same run`
      : notRun;
    checks.push(check(7, `${model}: exact per-sample RPR ≥ 1.0× the PyTorch peer`, 'at-least', 1, ratio, measured));
    const onOrt = peer === undefined || peer.backend.startsWith('onnxruntime');
    checks.push(
      check(9, `${model}: exact per-sample RPR on ONNX Runtime ≥ 3× the PyTorch peer`, 'at-least', 3, onOrt ? ratio : null,
        onOrt ? measured : `rpr-select ran on ${peer.backend}, not ONNX Runtime`),
    );
  }
  return checks;
}

function engineChecks(inputs: TargetInputs): TargetCheck[] {
  if (inputs.engines === null) return [check(9, 'exact RPR within 2× of m forward passes on the same engine', 'at-most', 2, null, 'the engines section did not run')];
  const rows = inputs.engines.results.rows;
  const pairs = [...new Set(rows.map((r) => `${r.model}\u0000${r.engine}`))].map((key) => key.split('\u0000') as [string, string]);
  return pairs.map(([model, engine]) => {
    const mine = rows.filter((r) => r.model === model && r.engine === engine && r.costInFloors !== null);
    const best = mine.reduce<(typeof mine)[number] | undefined>((a, b) => (a === undefined || b.costInFloors! < a.costInFloors! ? b : a), undefined);
    const measured = best
      ? `${best.costInFloors!.toFixed(2)}× (${best.setting}): exact RPR ${rate(best.exactRpr.perSecond)} vs the floor ${rate(best.floorPerSecond!)} = forward ${rate(best.forward!.perSecond)} ÷ m = ${best.outputs}; ${best.cpuCostInFloors?.toFixed(2) ?? '–'}× in CPU time`
      : 'no rate';
    return check(engine.startsWith('onnxruntime') ? 9 : 7, `${model} on ${engine}: exact RPR within 2× of m forward passes`, 'at-most', 2, best?.costInFloors ?? null, measured);
  });
}

function referenceChecks(inputs: TargetInputs): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const model of inputs.models) {
    const ref = largest(find(inputs.cases, 'scoring', 'reference-rpr', model));
    const entropy = find(inputs.cases, 'scoring', 'entropy', model)[0];
    const ratio = ref && entropy ? ref.imagesPerSecond / entropy.imagesPerSecond : null;
    checks.push(
      check(7, `${model}: reference-mode RPR ≥ 5× entropy scoring`, 'at-least', 5, ratio,
        ref && entropy ? `${ratio!.toFixed(1)}×: ${rate(ref.imagesPerSecond)} (${ref.poolSize.toLocaleString('en-US')} images) vs ${rate(entropy.imagesPerSecond)}` : 'a case failed'),
    );
  }
  const demo = largest(find(inputs.cases, 'scoring', 'reference-rpr', inputs.demoModel));
  const cli = inputs.poolSize?.summaries.find((s) => s.command === 'score')?.steadyImagesPerSecond ?? null;
  const cliText = cli === null ? '' : `; the score CLI on PNG files from disk, JSON lines out, start-up excluded: ${rate(cli)}`;
  checks.push(
    check(7, `${inputs.demoModel} (28×28): reference-mode RPR ≥ 10,000 images/s, decode included`, 'at-least', 10_000, demo?.imagesPerSecond ?? null,
      demo ? `${rate(demo.imagesPerSecond)} over ${demo.images.toLocaleString('en-US')} in-memory PNGs (sha256, decode, projection)${cliText}` : 'the case failed'),
  );
  return checks;
}

function memoryChecks(inputs: TargetInputs): TargetCheck[] {
  const section = inputs.poolSize;
  if (section === null) {
    const none = 'the pool-size section did not run';
    return [check(4, 'peak RSS flat in pool size', 'at-most', FLAT_BYTES_PER_IMAGE, null, none), check(7, 'peak RSS with 1M images < 500 MB', 'at-most', 500, null, none)];
  }
  const checks = section.summaries
    .filter((s) => s.growth !== null)
    .map((s) => {
      const g = s.growth!;
      return check(4, `peak RSS flat in pool size (${s.command}, reference mode): < ${FLAT_BYTES_PER_IMAGE} bytes per extra image (the set of ids seen takes 32–64 by design)`, 'at-most', FLAT_BYTES_PER_IMAGE, g.bytesPerExtraImage,
        `${g.bytesPerExtraImage.toFixed(0)} bytes per extra image from ${g.fromImages.toLocaleString('en-US')} to ${g.toImages.toLocaleString('en-US')} images (peak ${g.peakRssMB >= 0 ? '+' : ''}${g.peakRssMB.toFixed(1)} MB, last quarter ${g.lastQuarterRssMB >= 0 ? '+' : ''}${g.lastQuarterRssMB.toFixed(1)} MB)`);
    });
  const biggest = section.runs.filter((r) => r.command === 'score').sort((a, b) => b.poolImages - a.poolImages)[0];
  const atMillion = biggest !== undefined && biggest.poolImages >= MILLION;
  checks.push(
    check(7, 'peak RSS with 1M images < 500 MB (score, reference mode)', 'at-most', 500, atMillion ? biggest.peakRssMB : null,
      biggest === undefined ? 'no score run' : `${biggest.peakRssMB.toFixed(0)} MB at ${biggest.poolImages.toLocaleString('en-US')} images${atMillion ? '' : ' (not a million: --quick)'}`),
  );
  return checks;
}

function warmCacheChecks(inputs: TargetInputs): TargetCheck[] {
  return inputs.models.map((model) => {
    const warm = find(inputs.cases, 'scoring', 'warm-cache', model)[0];
    const cold = warm?.coldImagesPerSecond;
    const ratio = warm && cold ? warm.imagesPerSecond / cold : null;
    return check(7, `${model}: warm-cache re-run ≥ 50× the cold run`, 'at-least', 50, ratio,
      warm && cold ? `${ratio!.toFixed(0)}×: ${rate(warm.imagesPerSecond)} vs ${rate(cold)} (exact per-sample RPR, ${warm.images.toLocaleString('en-US')} images)` : 'the case failed');
  });
}

export function checkTargets(inputs: TargetInputs): TargetCheck[] {
  return [...peerChecks(inputs), ...engineChecks(inputs), ...referenceChecks(inputs), ...memoryChecks(inputs), ...warmCacheChecks(inputs)];
}

/** One Markdown line per target. */
export function targetLine(t: TargetCheck): string {
  const status = t.met === null ? 'not measured' : t.met ? 'met' : `**missed** by ${t.missedBy!.toFixed(2)}×`;
  return `- ${status} (issue ${t.issue}): ${t.target} — ${t.measured}`;
}
