/**
 * Memory against pool size, on real files through the real CLI: a pool of distinct 28×28 PNG files on
 * disk (MNIST digits, each with its index written into three corner pixels so no two files share bytes),
 * nested so that each size is one directory, scored in reference mode at each size —
 *   rpr-select score --mode reference --reference <train digits> --pool DIR --k 1,5,10 --out /dev/null --no-cache --json
 * — and run as a whole `select` round (reference mode; ledger, ranker, score cache and jsonl queue in a
 * fresh directory) at the sizes asked, each child's memory watched from /proc (watch-process.ts).
 *
 * `npm run bench` runs this as one of its sections. `npm run bench:rss` runs it alone and writes
 * bench/rss-results.json; options: --sizes 20000,200000 (score), --select-sizes 20000,200000,
 * --reference N (default 200), --dir DIR (where the pool goes; default bench/out/rss-pool), --keep
 * (leave the pool on disk for the next run: ~4 KB of disk per image).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import PQueue from 'p-queue';
import { writeDigitPngs } from '../src/pool/demo-pool.js';
import { mnistPart } from '../src/pool/mnist-digits.js';
import { packageRoot } from '../src/util/package-root.js';
import { describeRun, isEntryPoint, runInfo } from './run-info.js';
import { runWatched } from './watch-process.js';

const SIDE = 28;
const FILES_PER_FOLDER = 1000;
/** Bumped when the generated files or their layout change, so an old pool on disk is rewritten. */
const POOL_FORMAT = 2;
/** The round a `select` run makes: its size does not grow with the pool. */
const ROUND_SIZE = 100;
const CLI = () => join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

export interface PoolSizeOptions {
  /** Pool sizes scored with `score --mode reference`, ascending. */
  readonly scoreSizes: readonly number[];
  /** Pool sizes run as a whole `select` round in reference mode; each one of scoreSizes. */
  readonly selectSizes: readonly number[];
  /** Reference images (MNIST training digits) the basis is built from. */
  readonly referenceImages: number;
  /** Where the pool is written. */
  readonly dir: string;
  /** Leave the pool on disk for the next run. */
  readonly keep: boolean;
}

export type PoolSizeCommand = 'score' | 'select';

export interface PoolSizeRun {
  readonly command: PoolSizeCommand;
  readonly poolImages: number;
  /** Wall time of the whole command: start-up (modules, model, reference basis) included. */
  readonly seconds: number;
  /** poolImages / seconds, start-up included. */
  readonly imagesPerSecond: number;
  /** VmHWM of the command's process. */
  readonly peakRssMB: number;
  /** Largest VmRSS in each quarter of the run: growth while streaming shows as a rising sequence. */
  readonly rssByQuarterMB: readonly number[];
  /** 1-minute load average when the run ended. */
  readonly loadAverage: number;
}

/** How memory moved from the smallest run of a command to its largest. */
export interface Growth {
  readonly fromImages: number;
  readonly toImages: number;
  readonly peakRssMB: number;
  /** Of the largest VmRSS in the last quarter of each run: the streaming state, not a start-up peak. */
  readonly lastQuarterRssMB: number;
  /** The larger of the two growths, per extra image. */
  readonly bytesPerExtraImage: number;
}

export interface CommandSummary {
  readonly command: PoolSizeCommand;
  /** Images per second of the per-image work alone: the difference between the smallest and largest runs (both pay the same start-up). */
  readonly steadyImagesPerSecond: number | null;
  /** Start-up of a run (modules, model, reference basis), from the same difference. */
  readonly startupSeconds: number | null;
  readonly growth: Growth | null;
}

export interface PoolSizeSection {
  /** The engine that built the reference basis, as the score runs report it (pool images need none). */
  readonly backend: string;
  readonly referenceImages: number;
  readonly roundSize: number;
  readonly commands: Readonly<Record<PoolSizeCommand, string>>;
  readonly runs: readonly PoolSizeRun[];
  readonly summaries: readonly CommandSummary[];
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed) >>> 0);
  return Buffer.concat([length, typed, crc]);
}

/**
 * An 8-bit grayscale PNG, encoded here rather than with sharp: a bare zlib stream is ~10× faster, which
 * matters at a million files. The scored runs decode them, so a malformed file would show as an error.
 */
function grayPng(gray: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIDE, 0);
  header.writeUInt32BE(SIDE, 4);
  header[8] = 8; // bit depth; colour type 0 (gray), compression, filter and interlace 0
  const rows = Buffer.alloc(SIDE * (SIDE + 1));
  for (let r = 0; r < SIDE; r++) rows.set(gray.subarray(r * SIDE, (r + 1) * SIDE), r * (SIDE + 1) + 1);
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(rows, { level: 1 })), pngChunk('IEND', Buffer.alloc(0))]);
}

/** Image `index`: a pool digit, its three top-left pixels set to the index's bytes (distinct files). */
function imageBytes(digits: readonly { readonly pixels: Float32Array }[], index: number): Buffer {
  const pixels = digits[index % digits.length]!.pixels;
  const gray = new Uint8Array(SIDE * SIDE);
  for (let i = 0; i < gray.length; i++) gray[i] = Math.round(255 * Math.min(1, Math.max(0, pixels[i]!)));
  gray[0] = index & 0xff;
  gray[1] = (index >> 8) & 0xff;
  gray[2] = (index >> 16) & 0xff;
  return grayPng(gray);
}

/**
 * The directory holding exactly the first `size` images: sizes nest, largest outermost
 * (pool/n1000000/n200000/n20000), each level's own images under its `more/`.
 */
export function sizeDir(pool: string, sizes: readonly number[], size: number): string {
  const outer = sizes.filter((s) => s >= size).sort((a, b) => b - a);
  return join(pool, ...outer.map((s) => `n${s}`));
}

function imagePath(pool: string, sizes: readonly number[], index: number): string {
  const level = Math.min(...sizes.filter((s) => s > index));
  const below = Math.max(0, ...sizes.filter((s) => s <= index));
  const local = index - below;
  return join(sizeDir(pool, sizes, level), 'more', String(Math.floor(local / FILES_PER_FOLDER)).padStart(4, '0'), `img-${String(index).padStart(7, '0')}.png`);
}

async function ensurePool(options: PoolSizeOptions): Promise<{ pool: string; reference: string }> {
  const pool = join(options.dir, 'pool');
  const reference = join(options.dir, 'reference');
  const marker = join(options.dir, 'complete.json');
  const sizes = options.scoreSizes;
  const wanted = JSON.stringify({ format: POOL_FORMAT, sizes, referenceImages: options.referenceImages });
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === wanted) return { pool, reference };

  await rm(options.dir, { recursive: true, force: true });
  await writeDigitPngs(reference, mnistPart('train').slice(0, options.referenceImages));
  const digits = mnistPart('pool');
  const largest = Math.max(...sizes);
  const started = Date.now();
  const queue = new PQueue({ concurrency: 64 });
  const folders = new Set<string>();
  let failure: unknown = null;
  for (let index = 0; index < largest && failure === null; index++) {
    const path = imagePath(pool, sizes, index);
    const folder = dirname(path);
    if (!folders.has(folder)) {
      await mkdir(folder, { recursive: true });
      folders.add(folder);
    }
    await queue.onSizeLessThan(256);
    queue.add(() => writeFile(path, imageBytes(digits, index))).catch((error: unknown) => (failure ??= error));
    if ((index + 1) % 100_000 === 0) process.stderr.write(`generated ${index + 1} / ${largest} images\n`);
  }
  await queue.onIdle();
  if (failure !== null) throw failure;
  process.stderr.write(`generated ${largest} images in ${((Date.now() - started) / 1000).toFixed(1)} s under ${pool}\n`);
  await writeFile(marker, wanted);
  return { pool, reference };
}

function commandArgs(command: PoolSizeCommand, pool: string, reference: string): string[] {
  const common = ['--mode', 'reference', '--reference', reference, '--pool', pool, '--k', '1,5,10', '--json', '--quiet'];
  return command === 'score'
    ? ['score', ...common, '--out', '/dev/null', '--no-cache']
    : ['select', ...common, '--budget', String(ROUND_SIZE), '--round-size', String(ROUND_SIZE)];
}

async function runCommand(command: PoolSizeCommand, pool: string, reference: string, images: number, workDir: string): Promise<PoolSizeRun & { readonly backend?: string }> {
  // select keeps its ledger, score cache and queue under its working directory: a fresh one per run.
  const cwd = await mkdtemp(join(workDir, `${command}-`));
  try {
    const run = await runWatched(process.execPath, [CLI(), ...commandArgs(command, pool, reference)], { cwd });
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as { scored?: number; errors?: number; backend?: string; selected?: unknown[]; skipped?: unknown[] };
    const done = command === 'score' ? summary.scored === images && summary.errors === 0 : summary.selected?.length === Math.min(ROUND_SIZE, images) && summary.skipped?.length === 0;
    if (!done) throw new Error(`rpr-select ${command} on ${images} images did not score them all: ${run.stdout.slice(0, 300)}`);
    return {
      command,
      poolImages: images,
      seconds: run.seconds,
      imagesPerSecond: images / run.seconds,
      peakRssMB: run.peakRssMB,
      rssByQuarterMB: run.rssByQuarterMB,
      loadAverage: loadavg()[0]!,
      ...(summary.backend === undefined ? {} : { backend: summary.backend }),
    };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

function summarize(command: PoolSizeCommand, runs: readonly PoolSizeRun[]): CommandSummary {
  const mine = runs.filter((r) => r.command === command).sort((a, b) => a.poolImages - b.poolImages);
  const small = mine[0];
  const large = mine.at(-1);
  if (small === undefined || large === undefined || small === large) return { command, steadyImagesPerSecond: null, startupSeconds: null, growth: null };
  const rate = (large.poolImages - small.poolImages) / (large.seconds - small.seconds);
  const extra = large.poolImages - small.poolImages;
  const peak = large.peakRssMB - small.peakRssMB;
  const last = large.rssByQuarterMB.at(-1)! - small.rssByQuarterMB.at(-1)!;
  return {
    command,
    steadyImagesPerSecond: rate > 0 ? rate : null,
    startupSeconds: rate > 0 ? small.seconds - small.poolImages / rate : null,
    growth: { fromImages: small.poolImages, toImages: large.poolImages, peakRssMB: peak, lastQuarterRssMB: last, bytesPerExtraImage: (Math.max(peak, last) * 2 ** 20) / extra },
  };
}

export async function runPoolSizeSection(options: PoolSizeOptions): Promise<PoolSizeSection> {
  const sizes = [...options.scoreSizes].sort((a, b) => a - b);
  const missing = options.selectSizes.filter((s) => !sizes.includes(s));
  if (missing.length > 0) throw new Error(`select sizes ${missing.join(', ')} are not among the score sizes ${sizes.join(', ')}`);
  const { pool, reference } = await ensurePool({ ...options, scoreSizes: sizes });
  const workDir = await mkdtemp(join(options.dir, 'runs-'));
  const runs: PoolSizeRun[] = [];
  let backend = 'unknown';
  try {
    const plan: [PoolSizeCommand, number][] = [...sizes.map((s): [PoolSizeCommand, number] => ['score', s]), ...[...options.selectSizes].sort((a, b) => a - b).map((s): [PoolSizeCommand, number] => ['select', s])];
    for (const [command, images] of plan) {
      process.stderr.write(`pool size: ${command} on ${images.toLocaleString('en-US')} images in reference mode…\n`);
      const { backend: reported, ...run } = await runCommand(command, sizeDir(pool, sizes, images), reference, images, workDir);
      backend = reported ?? backend;
      process.stderr.write(`pool size: ${command} ${images}: ${run.seconds.toFixed(1)} s, peak RSS ${run.peakRssMB.toFixed(0)} MB\n`);
      runs.push(run);
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
    if (!options.keep) await rm(options.dir, { recursive: true, force: true });
  }
  const shown = (command: PoolSizeCommand) => `rpr-select ${commandArgs(command, 'DIR', `<${options.referenceImages} train digits>`).join(' ')}`;
  return {
    backend,
    referenceImages: options.referenceImages,
    roundSize: ROUND_SIZE,
    commands: { score: shown('score'), select: `${shown('select')} (fresh ledger, cache and queue)` },
    runs,
    summaries: [summarize('score', runs), summarize('select', runs)],
  };
}

/** The section as Markdown: one row per run, then the growth and the per-image rate of each command. */
export function poolSizeMarkdown(section: PoolSizeSection): string[] {
  const mb = (v: number) => v.toFixed(0);
  const lines = [
    '| command | pool images | seconds (with start-up) | images/s (with start-up) | peak RSS MB (VmHWM) | largest RSS MB in each quarter of the run | load avg |',
    '|---|---|---|---|---|---|---|',
    ...section.runs.map(
      (r) =>
        `| ${r.command} | ${r.poolImages.toLocaleString('en-US')} | ${r.seconds.toFixed(1)} | ${r.imagesPerSecond.toFixed(0)} | ${mb(r.peakRssMB)} | ${r.rssByQuarterMB.map(mb).join(' / ')} | ${r.loadAverage.toFixed(1)} |`,
    ),
    '',
  ];
  for (const s of section.summaries) {
    if (s.growth === null || s.steadyImagesPerSecond === null) continue;
    const g = s.growth;
    lines.push(
      `- ${s.command}: ${s.steadyImagesPerSecond.toFixed(0)} images/s once started (start-up ${s.startupSeconds!.toFixed(1)} s: modules, model, reference basis of ${section.referenceImages} images); ` +
        `from ${g.fromImages.toLocaleString('en-US')} to ${g.toImages.toLocaleString('en-US')} images peak RSS ${signed(g.peakRssMB)} MB, last-quarter RSS ${signed(g.lastQuarterRssMB)} MB ` +
        `(${g.bytesPerExtraImage.toFixed(0)} bytes per extra image).`,
    );
  }
  lines.push('- By design one structure grows with the pool: the set of sample ids seen, which drops duplicate files (16-byte slots, 2 to 4 per id: 32–64 bytes per image).');
  return lines;
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;
}

function parseOptions(argv: readonly string[]): PoolSizeOptions {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const counts = (flag: string, fallback: readonly number[]): number[] => {
    const raw = value(flag);
    const list = raw === undefined ? [...fallback] : raw.split(',').map(Number);
    if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n >= 2 ** 24)) {
      throw new Error(`${flag} must be a comma-separated list of integers from 1 to ${2 ** 24 - 1} (got '${raw}')`);
    }
    return list;
  };
  const scoreSizes = counts('--sizes', [20_000, 200_000]);
  return {
    scoreSizes,
    selectSizes: counts('--select-sizes', scoreSizes),
    referenceImages: counts('--reference', [200])[0]!,
    dir: resolve(value('--dir') ?? join(packageRoot(), 'bench', 'out', 'rss-pool')),
    keep: argv.includes('--keep'),
  };
}

async function main(): Promise<void> {
  const info = runInfo();
  const section = await runPoolSizeSection(parseOptions(process.argv.slice(2)));
  await writeFile(join(packageRoot(), 'bench', 'rss-results.json'), `${JSON.stringify({ ...info, ...section }, null, 2)}\n`);
  process.stdout.write([`Machine: ${describeRun(info)}`, '', ...poolSizeMarkdown(section)].join('\n') + '\n');
}

if (isEntryPoint(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:rss failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
