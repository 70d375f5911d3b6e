import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createDirectorySource } from './directory-source.js';
import { encodeDigitPng, writeDigitPngs } from './demo-pool.js';
import { mnistPart } from './mnist-digits.js';
import { createImageDecoder, defaultPreprocessing } from './preprocess.js';
import { streamSamples, type SampleEvent } from './stream-samples.js';
import type { PoolEntry, PoolSource } from './types.js';

const digits = mnistPart('pool').slice(0, 12);
const pre = defaultPreprocessing([28, 28, 1]);

async function collect<K>(events: AsyncIterable<SampleEvent<K>>, onEvent: () => void = () => undefined): Promise<SampleEvent<K>[]> {
  const out: SampleEvent<K>[] = [];
  for await (const event of events) {
    onEvent();
    out.push(event);
  }
  return out;
}

function uriOf(event: SampleEvent<unknown>): string {
  if (event.kind === 'sample') return event.sample.uri;
  return event.kind === 'known' ? event.uri : event.skipped.uri;
}

describe('streamSamples', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rpr-stream-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('decodes good images, skips corrupt ones with a reason, keeps zero images, and de-duplicates bytes', async () => {
    const dir = join(root, 'mixed');
    const [first, second, third] = await writeDigitPngs(dir, digits.slice(0, 3));
    const sub = join(dir, '0000');
    const good = await readFile(first as string);
    await writeFile(join(sub, 'a-truncated.png'), good.subarray(0, good.length - 30));
    await writeFile(join(sub, 'b-random.png'), Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 31 + 7) % 256)));
    const zeroPng = await sharp(Buffer.alloc(28 * 28), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
    await writeFile(join(sub, 'c-zero.png'), zeroPng);
    await writeFile(join(sub, 'zz-copy-of-first.png'), good);

    const stream = streamSamples(createDirectorySource(dir), pre, { concurrency: 3 });
    const events = await collect(stream);
    const at = (name: string) => join(sub, name);
    expect(events.map((e) => [e.kind, uriOf(e)])).toEqual([
      ['skipped', at('a-truncated.png')],
      ['skipped', at('b-random.png')],
      ['sample', at('c-zero.png')],
      ['sample', first],
      ['sample', second],
      ['sample', third],
      ['skipped', at('zz-copy-of-first.png')],
    ]);
    const byUri = new Map(events.map((e) => [uriOf(e), e]));
    for (const name of ['a-truncated.png', 'b-random.png']) {
      expect(byUri.get(at(name))).toMatchObject({ skipped: { reason: expect.stringMatching(/^cannot decode image: /) } });
    }
    const zero = byUri.get(at('c-zero.png'));
    expect(zero?.kind === 'sample' && zero.sample.pixels.every((v) => v === 0)).toBe(true);

    const firstId = createHash('sha256').update(good).digest('hex');
    expect(byUri.get(first as string)).toMatchObject({ sample: { id: firstId } });
    expect(byUri.get(at('zz-copy-of-first.png'))).toEqual({
      kind: 'skipped',
      skipped: { uri: at('zz-copy-of-first.png'), id: firstId, reason: `duplicate: the same bytes as an earlier image (sample ${firstId})` },
    });
    for (const [i, path] of [first, second, third].entries()) {
      const event = byUri.get(path as string);
      if (event?.kind !== 'sample') throw new Error(`${path} was not decoded`);
      const expected = digits[i]?.pixels as Float32Array;
      expect(Math.max(...event.sample.pixels.map((v, j) => Math.abs(v - (expected[j] as number))))).toBeLessThanOrEqual(1 / 255);
    }
    expect(stream.counts).toEqual({ samples: 4, skipped: 3, duplicates: 1, known: 0 });
  });

  it('preserves source order and keeps at most 2 × concurrency entries in flight', async () => {
    const pngs = await Promise.all(digits.map((d) => encodeDigitPng(d)));
    const n = 60;
    const state = { taken: 0, consumed: 0, maxOutstanding: 0 };
    // One extra byte after IEND (ignored by the decoder) makes every entry distinct: no duplicates.
    const source: PoolSource = {
      description: 'instrumented',
      async *entries(): AsyncGenerator<PoolEntry> {
        for (let i = 0; i < n; i++) {
          state.taken++;
          state.maxOutstanding = Math.max(state.maxOutstanding, state.taken - state.consumed);
          const uri = `mem://${i}`;
          if (i % 10 === 9) yield { kind: 'skipped', uri, reason: 'unreadable' };
          else yield { kind: 'image', uri, bytes: Buffer.concat([pngs[i % pngs.length] as Buffer, Buffer.from([i])]) };
        }
      },
    };
    const concurrency = 3;
    const stream = streamSamples(source, pre, { concurrency });
    const events = await collect(stream, () => state.consumed++);
    expect(events.map(uriOf)).toEqual(Array.from({ length: n }, (_, i) => `mem://${i}`));
    expect(state.maxOutstanding).toBeLessThanOrEqual(2 * concurrency);
    expect(state.maxOutstanding).toBeGreaterThan(1);
    expect(stream.counts).toEqual({ samples: 54, skipped: 6, duplicates: 0, known: 0 });
  });

  it('with a lookup: known entries come in place with the answer and are never decoded; misses are decoded, corrupt ones skipped', async () => {
    const pngs = await Promise.all(digits.map((d) => encodeDigitPng(d)));
    const n = 300;
    const entry = (i: number): PoolEntry => {
      const uri = `mem://${i}`;
      if (i % 50 === 7) return { kind: 'skipped', uri, reason: 'unreadable' };
      if (i === 100) return { kind: 'image', uri, bytes: Buffer.from('not a png') };
      // Entry 150 repeats the bytes of entry 20: a duplicate, decided before any lookup.
      const k = i === 150 ? 20 : i;
      return { kind: 'image', uri, bytes: Buffer.concat([pngs[k % pngs.length] as Buffer, Buffer.from([k % 256, k >> 8])]) };
    };
    const source: PoolSource = {
      description: 'with known ids',
      async *entries(): AsyncGenerator<PoolEntry> {
        for (let i = 0; i < n; i++) yield entry(i);
      },
    };
    const idOf = (i: number) => {
      const e = entry(i);
      return e.kind === 'image' ? createHash('sha256').update(e.bytes).digest('hex') : null;
    };
    // Every third image is known; the corrupt one (100) is not, as a cache never holds a score for it.
    const knownIds = new Map<string, number>();
    for (let i = 0; i < n; i += 3) {
      const id = idOf(i);
      if (id !== null) knownIds.set(id, i);
    }
    const lookups: string[][] = [];
    const decodedIds: string[] = [];
    const decode = createImageDecoder(pre);
    const stream = streamSamples(source, pre, {
      concurrency: 3,
      decoder: (bytes) => {
        decodedIds.push(createHash('sha256').update(bytes).digest('hex'));
        return decode(bytes);
      },
      lookup: (ids) => {
        lookups.push([...ids]);
        return new Map(ids.filter((id) => knownIds.has(id)).map((id) => [id, knownIds.get(id)!]));
      },
    });
    const events = await collect(stream);

    expect(events.map(uriOf)).toEqual(Array.from({ length: n }, (_, i) => `mem://${i}`));
    events.forEach((e, i) => {
      const id = idOf(i);
      if (i % 50 === 7) expect(e).toMatchObject({ kind: 'skipped', skipped: { reason: 'unreadable' } });
      else if (i === 150) expect(e).toMatchObject({ kind: 'skipped', skipped: { reason: expect.stringMatching(/^duplicate/) } });
      else if (i === 100) expect(e).toMatchObject({ kind: 'skipped', skipped: { id, reason: expect.stringMatching(/^cannot decode image: /) } });
      else if (knownIds.has(id!)) expect(e).toEqual({ kind: 'known', id, uri: `mem://${i}`, value: knownIds.get(id!) });
      else expect(e).toMatchObject({ kind: 'sample', sample: { id, uri: `mem://${i}` } });
    });
    // Only the misses went through the decoder, each once: the decoded ones and the corrupt one.
    const misses = events.flatMap((e) => (e.kind === 'sample' ? [e.sample.id] : []));
    expect(misses.length).toBeGreaterThan(150);
    expect(decodedIds.sort()).toEqual([...misses, idOf(100)].sort());
    // New ids only (no source skip, no duplicate), in source order, up to 256 entries' worth per lookup.
    expect(lookups.length).toBe(2);
    const newIds = Array.from({ length: n }, (_, i) => i)
      .filter((i) => i % 50 !== 7 && i !== 150)
      .map((i) => idOf(i)!);
    expect(lookups.flat()).toEqual(newIds);
    expect(stream.counts).toEqual({ samples: misses.length, skipped: 8, duplicates: 1, known: knownIds.size });
  });

  it('rejects an invalid preprocessing before reading anything', () => {
    const source: PoolSource = {
      description: 'never read',
      entries: () => {
        throw new Error('read');
      },
    };
    expect(() => streamSamples(source, { ...pre, std: [0] })).toThrow(expect.objectContaining({ code: 'RPR_CONFIG' }));
  });
});
