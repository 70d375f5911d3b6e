import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../config/index.js';
import { createSink, registerSink, sinkNames } from './create-sink.js';
import { JsonlSink } from './jsonl/index.js';
import type { Sink } from './sink.js';
import { rprRejection } from '../../test/helpers/rpr-rejection.js';

const context = (name: string, path = join(mkdtempSync(join(tmpdir(), 'rpr-sink-')), 'q.jsonl')) => ({
  config: { ...DEFAULT_CONFIG.sink, name, jsonl: { path } },
  secrets: { labelStudioApiKey: null },
  modelDigest: 'm',
});

describe('createSink', () => {
  it('opens the jsonl queue at the configured path', async () => {
    const ctx = context('jsonl');
    const sink = await createSink(ctx);
    expect(sink).toBeInstanceOf(JsonlSink);
    expect((sink as JsonlSink).path).toBe(ctx.config.jsonl.path);
  });

  it('rejects an unknown name with RPR_UNKNOWN_NAME listing the registered sinks', async () => {
    const error = await rprRejection(createSink(context('jsnol')));
    expect(error.code).toBe('RPR_UNKNOWN_NAME');
    expect(error.message).toBe(`unknown sink 'jsnol'; valid names: ${sinkNames().join(', ')}`);
  });

  it('takes a new platform with one registration, and refuses a name twice', async () => {
    const fake: Sink = { name: 'fake', push: async () => new Map(), list: async function* () {}, fetchLabels: async function* () {}, close: async () => undefined };
    registerSink('fake', async () => fake);
    expect(sinkNames()).toContain('fake');
    expect(await createSink(context('fake'))).toBe(fake);
    expect(() => registerSink('fake', async () => fake)).toThrow(/already registered/);
  });
});
