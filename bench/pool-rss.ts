/**
 * `npm run bench:rss`: does memory stay flat as the pool grows? Generates a pool of distinct PNG files
 * on disk (MNIST digits, each with its index written into three corner pixels so no two files share
 * bytes), then scores the first `--small` images (default 20,000) and the whole pool (`--large`, default
 * 200,000) in reference mode with the real CLI —
 *   rpr-select score --mode reference --reference <200 train digits> --pool DIR --out /dev/null --no-cache --json
 * — sampling the child's /proc/<pid>/status (VmHWM = peak RSS, VmRSS over time; Linux only). Also
 * measures, in this process, the heap cost of the one structure that grows with the pool by design: the
 * id → first-uri map that stream-samples keeps to drop duplicate files.
 * Writes bench/rss-results.json and prints a Markdown table.
 *
 * Options: --small N, --large N, --dir DIR (where the pool goes; default bench/out/rss-pool), --keep
 * (leave the pool on disk for the next run; it takes ~4 KB of disk per image).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import PQueue from 'p-queue';
import { writeDigitPngs } from '../src/pool/demo-pool.js';
import { mnistPart } from '../src/pool/mnist-digits.js';
import { packageRoot } from '../src/util/package-root.js';

const SIDE = 28;
const FILES_PER_FOLDER = 1000;
const REFERENCE_IMAGES = 200;
const POLL_MS = 100;
/** Bumped when the generated files change, so an old pool on disk is rewritten. */
const POOL_FORMAT = 1;

interface Options {
  readonly small: number;
  readonly large: number;
  readonly dir: string;
  readonly keep: boolean;
}

interface RunResult {
  readonly poolImages: number;
  readonly scored: number;
  readonly errors: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  /** VmHWM of the scoring process. */
  readonly peakRssMB: number;
  /** Largest VmRSS in each quarter of the run's duration: growth shows as a rising sequence. */
  readonly rssByQuarterMB: readonly number[];
}

function parseOptions(argv: readonly string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const count = (flag: string, fallback: number): number => {
    const raw = value(flag);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < 1 || n >= 2 ** 24) throw new Error(`${flag} must be an integer from 1 to ${2 ** 24 - 1} (got '${raw}')`);
    return n;
  };
  const small = count('--small', 20_000);
  const large = count('--large', 200_000);
  if (small >= large) throw new Error(`--small (${small}) must be less than --large (${large})`);
  return { small, large, dir: resolve(value('--dir') ?? join(packageRoot(), 'bench', 'out', 'rss-pool')), keep: argv.includes('--keep') };
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
 * matters at 200,000 files. sharp decodes them in the scored run, so a malformed file would show as an error.
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

/** The pool's first `small` images go under small/, the rest under rest/: scoring small/ or the root. */
function imagePath(dir: string, small: number, index: number): string {
  const part = index < small ? 'small' : 'rest';
  const local = index < small ? index : index - small;
  return join(dir, part, String(Math.floor(local / FILES_PER_FOLDER)).padStart(4, '0'), `img-${String(index).padStart(7, '0')}.png`);
}

async function ensurePool(options: Options): Promise<{ pool: string; reference: string }> {
  const pool = join(options.dir, 'pool');
  const reference = join(options.dir, 'reference');
  const marker = join(options.dir, 'complete.json');
  const wanted = JSON.stringify({ format: POOL_FORMAT, small: options.small, large: options.large });
  if (existsSync(marker) && (await readFile(marker, 'utf8')) === wanted) return { pool, reference };

  await rm(options.dir, { recursive: true, force: true });
  await writeDigitPngs(reference, mnistPart('train').slice(0, REFERENCE_IMAGES));
  const digits = mnistPart('pool');
  const started = Date.now();
  const queue = new PQueue({ concurrency: 64 });
  const folders = new Set<string>();
  let failure: unknown = null;
  for (let index = 0; index < options.large && failure === null; index++) {
    const path = imagePath(pool, options.small, index);
    const folder = dirname(path);
    if (!folders.has(folder)) {
      await mkdir(folder, { recursive: true });
      folders.add(folder);
    }
    await queue.onSizeLessThan(256);
    queue.add(() => writeFile(path, imageBytes(digits, index))).catch((error: unknown) => (failure ??= error));
    if ((index + 1) % 20_000 === 0) process.stderr.write(`generated ${index + 1} / ${options.large} images\n`);
  }
  await queue.onIdle();
  if (failure !== null) throw failure;
  process.stderr.write(`generated ${options.large} images in ${((Date.now() - started) / 1000).toFixed(1)} s under ${pool}\n`);
  await writeFile(marker, wanted);
  return { pool, reference };
}

function procStatusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Scores `pool` in reference mode with the built CLI, sampling the child's memory until it exits. */
async function scoreAndWatch(pool: string, reference: string, poolImages: number): Promise<RunResult> {
  const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  const args = [cli, 'score', '--mode', 'reference', '--reference', reference, '--pool', pool, '--k', '1,5,10', '--out', '/dev/null', '--no-cache', '--json', '--quiet'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const pid = child.pid!;
  let peakKb = 0;
  const timeline: { at: number; kb: number }[] = [];
  const started = Date.now();
  const sample = () => {
    peakKb = Math.max(peakKb, procStatusKb(pid, 'VmHWM') ?? 0);
    const rss = procStatusKb(pid, 'VmRSS');
    if (rss !== null) timeline.push({ at: Date.now() - started, kb: rss });
  };
  const timer = setInterval(sample, POLL_MS);
  const code = await new Promise<number | null>((done) => child.once('close', done));
  clearInterval(timer);
  if (code !== 0) throw new Error(`rpr-select score exited with ${code} on ${pool}`);
  const summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { scored: number; errors: number; seconds: number; imagesPerSecond: number };
  const end = timeline.at(-1)?.at ?? 0;
  const quarterMaxMB = (quarter: number) =>
    Math.max(0, ...timeline.filter((s) => s.at > ((quarter - 1) * end) / 4 && s.at <= (quarter * end) / 4).map((s) => s.kb)) / 1024;
  return {
    poolImages,
    scored: summary.scored,
    errors: summary.errors,
    seconds: summary.seconds,
    imagesPerSecond: summary.imagesPerSecond,
    peakRssMB: peakKb / 1024,
    rssByQuarterMB: [1, 2, 3, 4].map(quarterMaxMB),
  };
}

/**
 * Heap bytes per entry of stream-samples' duplicate map (sha256 hex id → first uri), built here with
 * strings made the way the directory source makes them: a hex digest, and a path from path.join that was
 * then handed to the file system. (That flattens it: a path.join result never passed to fs is a rope of
 * ~600 bytes, against ~80 flat.)
 */
function dedupeMapBytesPerEntry(options: Options, pool: string): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return null;
  gc();
  const before = process.memoryUsage().heapUsed;
  const map = new Map<string, string>();
  for (let i = 0; i < options.large; i++) {
    const uri = imagePath(pool, options.small, i);
    existsSync(uri);
    map.set(createHash('sha256').update(String(i)).digest('hex'), uri);
  }
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / map.size;
  map.clear();
  return bytes;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const { pool, reference } = await ensurePool(options);
  const runs: RunResult[] = [];
  for (const [dir, images] of [
    [join(pool, 'small'), options.small],
    [pool, options.large],
  ] as const) {
    process.stderr.write(`scoring ${images} images in reference mode…\n`);
    const run = await scoreAndWatch(dir, reference, images);
    if (run.scored !== images || run.errors !== 0) throw new Error(`expected ${images} scored images, got ${run.scored} (${run.errors} errors)`);
    runs.push(run);
  }
  const [small, large] = runs as [RunResult, RunResult];
  const mapBytes = dedupeMapBytesPerEntry(options, pool);
  const growthMB = large.peakRssMB - small.peakRssMB;
  // Both runs pay the same start-up (loading the model, building the reference basis); the difference
  // between them is the scoring rate alone.
  const scoringRate = (large.scored - small.scored) / (large.seconds - small.seconds);
  const results = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
    date: new Date().toISOString(),
    command: 'rpr-select score --mode reference --reference <200 train digits> --pool DIR --k 1,5,10 --out /dev/null --no-cache --json',
    runs,
    /** Images per second of scoring alone, from the difference between the runs. */
    scoringImagesPerSecond: scoringRate,
    /** Start-up of a run: model, reference basis (the same in both runs). */
    startupSeconds: small.seconds - small.scored / scoringRate,
    growth: {
      peakRssMB: growthMB,
      bytesPerExtraImage: (growthMB * 2 ** 20) / (options.large - options.small),
      /** Heap bytes per entry of the duplicate-detection map (measured here; null without --expose-gc). */
      dedupeMapBytesPerImage: mapBytes,
      dedupeMapMBAtLarge: mapBytes === null ? null : (mapBytes * options.large) / 2 ** 20,
    },
  };
  writeFileSync(join(packageRoot(), 'bench', 'rss-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const mb = (v: number) => v.toFixed(0);
  const md = [
    `Machine: ${results.machine.cpus} × ${results.machine.model}, Node ${results.machine.node}, ${results.date}`,
    '',
    '| pool images | scored | seconds (with start-up) | images/s (with start-up) | peak RSS MB (VmHWM) | largest RSS MB in each quarter of the run |',
    '|---|---|---|---|---|---|',
    ...runs.map((r) => `| ${r.poolImages} | ${r.scored} | ${r.seconds.toFixed(1)} | ${r.imagesPerSecond.toFixed(0)} | ${mb(r.peakRssMB)} | ${r.rssByQuarterMB.map(mb).join(' / ')} |`),
    '',
    `Scoring alone: ${scoringRate.toFixed(0)} images/s; start-up (model, reference basis of ${REFERENCE_IMAGES} images): ${results.startupSeconds.toFixed(1)} s.`,
    `Peak RSS grows by ${growthMB.toFixed(1)} MB from ${options.small} to ${options.large} images ` +
      `(${results.growth.bytesPerExtraImage.toFixed(0)} bytes per extra image).` +
      (mapBytes === null
        ? ''
        : ` The duplicate-id map of stream-samples costs ${mapBytes.toFixed(0)} bytes per image here: ` +
          `${results.growth.dedupeMapMBAtLarge!.toFixed(1)} MB at ${options.large} images.`),
  ].join('\n');
  process.stdout.write(`${md}\n`);
  if (!options.keep) await rm(options.dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:rss failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
