import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { packageRoot } from '../util/package-root.js';
import { createDirectorySource } from './directory-source.js';
import { encodeDigitPng } from './demo-pool.js';
import { mnistPart } from './mnist-digits.js';
import type { PoolEntry } from './types.js';

const digits = mnistPart('pool').slice(0, 6);

/**
 * chmod 000 blocks reads only for an unprivileged user. As root (containers, CI) the listing runs in a
 * child process as `nobody` on the built module, so the permission test runs everywhere rather than
 * passing vacuously.
 */
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

type Listed = [string, PoolEntry['kind'], string | undefined];

async function listUnprivileged(root: string): Promise<Listed[]> {
  const list = (entries: readonly PoolEntry[]): Listed[] => entries.map((e) => [e.uri, e.kind, e.kind === 'skipped' ? e.reason : undefined]);
  if (!asRoot) return list(await collect(createDirectorySource(root).entries()));
  // The checkout may sit where `nobody` cannot reach (a 0700 temp dir): run a copy of the built modules.
  const built = await mkdtemp(join(tmpdir(), 'rpr-built-'));
  try {
    await cp(join(packageRoot(), 'dist', 'src'), built, { recursive: true });
    await chmod(built, 0o755);
    const entry = join(built, 'pool', 'directory-source.js');
    const script =
      `const { createDirectorySource } = await import(${JSON.stringify(pathToFileURL(entry).href)});` +
      `const out = []; for await (const e of createDirectorySource(${JSON.stringify(root)}).entries()) out.push({ uri: e.uri, kind: e.kind, reason: e.reason });` +
      'process.stdout.write(JSON.stringify(out));';
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { uid: NOBODY, gid: NOBODY });
    return list(JSON.parse(stdout) as PoolEntry[]);
  } finally {
    await rm(built, { recursive: true, force: true });
  }
}

async function collect(entries: AsyncIterable<PoolEntry>): Promise<PoolEntry[]> {
  const out: PoolEntry[] = [];
  for await (const entry of entries) out.push(entry);
  return out;
}

describe('createDirectorySource', () => {
  let root: string;
  let png: Buffer[];
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rpr-dir-source-'));
    png = await Promise.all(digits.map((d) => encodeDigitPng(d)));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('reads images recursively, depth-first in sorted order, any extension case, ignoring other files', async () => {
    await mkdir(join(root, 'b', 'inner'), { recursive: true });
    await mkdir(join(root, 'a'));
    const files: [string, number][] = [
      ['z.png', 0],
      ['B.JPG', 1],
      ['a/2.jpeg', 2],
      ['a/10.webp', 3],
      ['b/inner/x.PnG', 4],
      ['b/c.Jpeg', 5],
    ];
    for (const [name, i] of files) await writeFile(join(root, name), png[i] as Buffer);
    await writeFile(join(root, 'notes.txt'), 'not an image');
    await writeFile(join(root, 'a', 'image.gif'), 'gif is not read');

    const entries = await collect(createDirectorySource(root).entries());
    // Code-unit order: upper case before lower case, '1' before '2'; a directory's files where its name sorts.
    const expectedOrder = ['B.JPG', 'a/10.webp', 'a/2.jpeg', 'b/c.Jpeg', 'b/inner/x.PnG', 'z.png'];
    expect(entries.map((e) => e.uri)).toEqual(expectedOrder.map((name) => join(root, name)));
    for (const entry of entries) {
      expect(entry.kind).toBe('image');
      const index = files.find(([name]) => join(root, name) === entry.uri)?.[1] as number;
      if (entry.kind === 'image') expect(entry.bytes.equals(png[index] as Buffer)).toBe(true);
    }
    // Deterministic: a second pass gives the same order.
    expect((await collect(createDirectorySource(root).entries())).map((e) => e.uri)).toEqual(entries.map((e) => e.uri));
  });

  it('does not hang on a symbolic link loop and reports it; broken and self links are skipped with a reason', async () => {
    await mkdir(join(root, 'sub'));
    await writeFile(join(root, 'sub', 'one.png'), png[0] as Buffer);
    await symlink('..', join(root, 'sub', 'loop'));
    await symlink(join(root, 'sub'), join(root, 'via-link'));
    await symlink('missing.png', join(root, 'broken.png'));
    await symlink('self.png', join(root, 'self.png'));

    const entries = await collect(createDirectorySource(root).entries());
    const byUri = new Map(entries.map((e) => [e.uri, e]));
    expect(entries.filter((e) => e.kind === 'image').map((e) => e.uri)).toEqual([join(root, 'sub', 'one.png')]);
    const skippedBecause = (text: string) => ({ kind: 'skipped', reason: expect.stringContaining(text) });
    expect(byUri.get(join(root, 'sub', 'loop'))).toMatchObject(skippedBecause(`already visited as ${root}`));
    expect(byUri.get(join(root, 'via-link'))).toMatchObject(skippedBecause(`already visited as ${join(root, 'sub')}`));
    expect(byUri.get(join(root, 'broken.png'))).toMatchObject(skippedBecause('missing.png'));
    expect(byUri.get(join(root, 'self.png'))).toMatchObject(skippedBecause('ELOOP'));
  });

  it('follows a link to a directory outside the pool once', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'rpr-dir-outside-'));
    try {
      await writeFile(join(outside, 'far.png'), png[1] as Buffer);
      await symlink(outside, join(root, 'linked'));
      const entries = await collect(createDirectorySource(root).entries());
      expect(entries).toEqual([{ kind: 'image', uri: join(root, 'linked', 'far.png'), bytes: png[1] }]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('skips a file over maxFileBytes with the reason', async () => {
    await writeFile(join(root, 'big.png'), png[0] as Buffer);
    const entries = await collect(createDirectorySource(root, { maxFileBytes: 10 }).entries());
    expect(entries).toEqual([{ kind: 'skipped', uri: join(root, 'big.png'), reason: expect.stringContaining('maxFileBytes') }]);
  });

  it('yields an unreadable file and an unreadable directory as skipped, and goes on', async () => {
    await writeFile(join(root, 'a.png'), png[0] as Buffer);
    await writeFile(join(root, 'b.png'), png[1] as Buffer);
    await mkdir(join(root, 'c'));
    await writeFile(join(root, 'c', 'inside.png'), png[2] as Buffer);
    await writeFile(join(root, 'd.png'), png[3] as Buffer);
    // Readable by the unprivileged lister but for the two blocked entries.
    await chmod(root, 0o755);
    for (const file of ['a.png', 'd.png']) await chmod(join(root, file), 0o644);
    await chmod(join(root, 'b.png'), 0o000);
    await chmod(join(root, 'c'), 0o000);
    try {
      const entries = await listUnprivileged(root);
      expect(entries.map(([uri, kind]) => [uri, kind])).toEqual([
        [join(root, 'a.png'), 'image'],
        [join(root, 'b.png'), 'skipped'],
        [join(root, 'c'), 'skipped'],
        [join(root, 'd.png'), 'image'],
      ]);
      expect(entries[1]![2]).toContain('EACCES');
      expect(entries[2]![2]).toContain('cannot read directory');
    } finally {
      await chmod(join(root, 'b.png'), 0o600);
      await chmod(join(root, 'c'), 0o700);
    }
  });

  it('rejects a missing directory, or a file, with RPR_POOL_NOT_FOUND naming the path', async () => {
    const missing = join(root, 'nope');
    await expect(collect(createDirectorySource(missing).entries())).rejects.toMatchObject({
      code: 'RPR_POOL_NOT_FOUND',
      message: expect.stringContaining(missing),
      context: { path: missing },
    });
    const file = join(root, 'file.png');
    await writeFile(file, 'x');
    await expect(collect(createDirectorySource(file).entries())).rejects.toMatchObject({
      code: 'RPR_POOL_NOT_FOUND',
      message: expect.stringContaining('is not a directory'),
    });
  });

  it('stops cleanly when the consumer stops early', async () => {
    for (let i = 0; i < 5; i++) await writeFile(join(root, `${i}.png`), png[i] as Buffer);
    const seen: string[] = [];
    for await (const entry of createDirectorySource(root).entries()) {
      seen.push(entry.uri);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([join(root, '0.png'), join(root, '1.png')]);
  });
});
