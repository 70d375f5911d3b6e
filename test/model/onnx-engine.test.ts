/** @jest-environment ./test/fixtures/onnx/ort-jest-environment.cjs */
/**
 * Engine choice: with onnxruntime-node installed (a plain `npm install`, the project .npmrc keeps its
 * installer off the network) `auto` resolves to ONNX Runtime; `--engine` picks either engine, the
 * summary names it, both engines give the same scores, and the cache does not care which one wrote it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliInProcess } from '../../src/cli/testing/in-process-cli.js';
import type { EngineChoice } from '../../src/model/load-model.js';
import { loadModel } from '../../src/model/load-model.js';
import { mnistPart, writeDigitPngs } from '../../src/pool/index.js';
import { bundledModelPath } from '../../src/util/package-root.js';
import { rprRejection } from '../helpers/rpr-rejection.js';

const cli = (cwd: string, argv: string[]) => runCliInProcess(cwd, argv);

function lines(path: string): { id: string; rpr: Record<string, number> }[] {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; rpr: Record<string, number> });
}

describe('engine choice', () => {
  it('auto resolves to ONNX Runtime here', async () => {
    const model = await loadModel(bundledModelPath());
    expect(model.backend).toBe('onnxruntime-cpu');
    model.executor.dispose();
  });

  it('an unknown engine is RPR_UNKNOWN_NAME listing the valid ones', async () => {
    const error = await rprRejection(loadModel(bundledModelPath(), { engine: 'torch' as EngineChoice }));
    expect(error.code).toBe('RPR_UNKNOWN_NAME');
    expect(error.message).toMatch(/auto, onnxruntime, tfjs/);
  });

  describe('rpr-select score --engine', () => {
    let pool: string;
    beforeAll(async () => {
      pool = mkdtempSync(join(tmpdir(), 'rpr-engine-pool-'));
      await writeDigitPngs(pool, mnistPart('pool').slice(0, 12));
    });

    it('names the engine in the summary; both engines score alike; the cache is shared', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'rpr-engine-'));
      const runs: Record<string, { backend: string; networkPasses: number; cacheHits: number }> = {};
      for (const [engine, cache] of [['auto', 'none'], ['tfjs', 'none'], ['onnxruntime', 'shared.sqlite'], ['tfjs', 'shared.sqlite']] as const) {
        const out = `${engine}-${cache}.jsonl`;
        const cacheFlags = cache === 'none' ? ['--no-cache'] : ['--cache', cache];
        const run = await cli(cwd, ['score', '--pool', pool, '--engine', engine, ...cacheFlags, '--out', out, '--json', '--workers', '1']);
        expect(run.code).toBe(0);
        runs[`${engine}-${cache}`] = JSON.parse(run.stdout) as { backend: string; networkPasses: number; cacheHits: number };
      }
      expect(runs['auto-none']!.backend).toBe('onnxruntime-cpu');
      expect(runs['tfjs-none']!.backend).toMatch(/^tfjs-/);
      const ort = lines(join(cwd, 'auto-none.jsonl'));
      const tfjs = lines(join(cwd, 'tfjs-none.jsonl'));
      expect(ort.map((l) => l.id)).toEqual(tfjs.map((l) => l.id));
      ort.forEach((l, i) => {
        for (const k of ['1', '5', '10']) expect(Math.abs(l.rpr[k]! - tfjs[i]!.rpr[k]!)).toBeLessThan(1e-4);
      });
      // The second engine on the same cache recomputes nothing.
      expect(runs['onnxruntime-shared.sqlite']!.networkPasses).toBeGreaterThan(0);
      expect(runs['tfjs-shared.sqlite']).toMatchObject({ networkPasses: 0, cacheHits: 12 });
    });

    it('scores alike on two worker threads (each its own ONNX Runtime session, one thread each)', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'rpr-engine-'));
      for (const workers of ['1', '2']) {
        const run = await cli(cwd, ['score', '--pool', pool, '--engine', 'onnxruntime', '--no-cache', '--out', `w${workers}.jsonl`, '--json', '--workers', workers]);
        expect(run.code).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({ backend: 'onnxruntime-cpu', scored: 12 });
      }
      const one = lines(join(cwd, 'w1.jsonl'));
      const two = lines(join(cwd, 'w2.jsonl'));
      one.forEach((l, i) => {
        for (const k of ['1', '5', '10']) expect(Math.abs(l.rpr[k]! - two[i]!.rpr[k]!)).toBeLessThan(1e-6);
      });
    });

    it('an unknown --engine is one line and exit 2', async () => {
      const run = await cli(mkdtempSync(join(tmpdir(), 'rpr-engine-')), ['score', '--pool', pool, '--engine', 'torch', '--no-cache']);
      expect(run.code).toBe(2);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/engine/);
    });
  });
});
