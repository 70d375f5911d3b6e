import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPoolSource, poolSourceKindNames, registerPoolSourceKind, type PoolSourceKind } from './create-pool-source.js';
import type { PoolEntry, PoolSource } from './types.js';

async function uris(source: PoolSource): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of source.entries()) out.push(entry.uri);
  return out;
}

describe('createPoolSource', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rpr-create-source-'));
    await mkdir(join(root, 'images'));
    await writeFile(join(root, 'images', 'a.png'), 'bytes a');
    await writeFile(join(root, 'list.JSONL'), `${JSON.stringify({ path: 'images/a.png' })}\n`);
    await writeFile(join(root, 'list.csv'), 'path\nimages/a.png\n');
    await writeFile(join(root, 'list.txt'), 'images/a.png\n');
    await writeFile(join(root, 'notes.md'), 'not a manifest');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('opens a directory, and .jsonl/.csv/.txt manifests (extension in any case)', async () => {
    const image = join(root, 'images', 'a.png');
    const directory = await createPoolSource(join(root, 'images'));
    expect(directory.description).toBe(`directory ${join(root, 'images')}`);
    expect(await uris(directory)).toEqual([image]);
    for (const name of ['list.JSONL', 'list.csv', 'list.txt']) {
      const manifest = await createPoolSource(join(root, name));
      expect(manifest.description).toBe(`manifest ${join(root, name)}`);
      expect(await uris(manifest)).toEqual([image]);
    }
    expect(await uris(await createPoolSource(`manifest:${join(root, 'list.txt')}`))).toEqual([image]);
  });

  it('fails clearly: a missing pool, a file of no known kind, an unknown kind prefix', async () => {
    await expect(createPoolSource(join(root, 'missing'))).rejects.toMatchObject({
      code: 'RPR_POOL_NOT_FOUND',
      message: expect.stringContaining(join(root, 'missing')),
    });
    await expect(createPoolSource(join(root, 'missing.jsonl'))).rejects.toMatchObject({ code: 'RPR_POOL_NOT_FOUND' });
    await expect(createPoolSource(`directory:${join(root, 'list.txt')}`)).rejects.toMatchObject({
      code: 'RPR_POOL_NOT_FOUND',
      message: expect.stringContaining('is not a directory'),
    });
    await expect(createPoolSource(join(root, 'notes.md'))).rejects.toMatchObject({
      code: 'RPR_USAGE',
      message: expect.stringMatching(/cannot tell what kind of pool .*directory \(.*\); manifest \(/),
    });
    await expect(createPoolSource('s3://bucket/list.jsonl')).rejects.toMatchObject({
      code: 'RPR_UNKNOWN_NAME',
      message: "unknown pool source kind 's3'; valid names: directory, manifest",
    });
  });

  it('accepts a registered kind by prefix and by detection, and refuses a second kind of the same name', async () => {
    const opened: string[] = [];
    const project: PoolSourceKind = {
      name: 'test-project',
      usage: 'a test project URL',
      detect: async (spec) => spec.startsWith('project://'),
      async create(target) {
        opened.push(target);
        return {
          description: `project ${target}`,
          async *entries(): AsyncGenerator<PoolEntry> {
            yield { kind: 'skipped', uri: target, reason: 'test source' };
          },
        };
      },
    };
    registerPoolSourceKind(project);
    expect(poolSourceKindNames()).toEqual(['directory', 'manifest', 'test-project']);
    expect(await uris(await createPoolSource('test-project:http://host/projects/3'))).toEqual(['http://host/projects/3']);
    expect((await createPoolSource('project://7')).description).toBe('project project://7');
    expect(opened).toEqual(['http://host/projects/3', 'project://7']);
    expect(() => registerPoolSourceKind(project)).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
    expect(() => registerPoolSourceKind({ ...project, name: 'Bad Name' })).toThrow(expect.objectContaining({ code: 'RPR_USAGE' }));
  });
});
