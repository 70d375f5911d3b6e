import { parseShardJob, parseShardResult, SHARD_PROTOCOL, type ShardJobData, type ShardResult } from './shard-job.js';

const job: ShardJobData = {
  protocol: SHARD_PROTOCOL,
  round: 'abc',
  shard: { index: 2, base: '/pool', entries: ['a.png', { uri: '/pool/x', reason: 'cannot read directory' }, 'https://h/x.png'] },
  modelPath: '/models/cnn',
  modelDigest: 'd'.repeat(64),
  preprocessingDigest: null,
  scoring: { mode: 'per-sample', ks: [1, 5, 10], svd: 'auto', preprocessing: {} },
  policy: { name: 'lowest-rpr', options: { k: 10, seed: 0 } },
  cost: { unit: 'cost', rule: { rule: 'pixels', perMegapixel: 2, min: 0.5 } },
  capacity: 50,
  excluded: { count: 0, digest: 'e', key: null },
};

const result: ShardResult = {
  protocol: SHARD_PROTOCOL,
  shard: 2,
  candidates: [{ result: { id: 'i', uri: '/pool/a.png', rpr: { '10': 0.25 }, sigma: null, predicted: 3, logits: [0, 1], coords: [0.5] }, cost: 1 }],
  total: 3,
  alreadySelected: 0,
  skippedTotal: 1,
  skipped: [{ uri: '/pool/x', id: null, reason: 'cannot read directory' }],
  worker: { id: 'h:1', host: 'h', pid: 1, backend: 'tfjs-wasm' },
  startedAt: 1_700_000_000_000,
  seconds: 0.5,
};

describe('shard jobs and results', () => {
  it('parse what the other side wrote, after a JSON round trip', () => {
    expect(parseShardJob(JSON.parse(JSON.stringify(job)))).toEqual(job);
    expect(parseShardResult(JSON.parse(JSON.stringify(result)))).toEqual(result);
  });

  it('name another protocol version as such', () => {
    expect(() => parseShardJob({ ...job, protocol: 2 })).toThrow('shard job of protocol 2, this rpr-select speaks protocol 1: run the same version everywhere');
    expect(() => parseShardResult(null)).toThrow(/shard result of protocol undefined/);
  });

  it('name the malformed field', () => {
    expect(() => parseShardJob({ ...job, capacity: -1 })).toThrow(/malformed shard job: 'capacity'/);
    expect(() => parseShardJob({ ...job, cost: { unit: 'cost', rule: { rule: 'pixels', min: 1 } } })).toThrow(/'cost.rule.perMegapixel'/);
    expect(() => parseShardResult({ ...result, candidates: [{ result: { ...result.candidates[0]!.result, rpr: 'x' }, cost: 1 }] })).toThrow(
      /malformed shard result: 'candidates.0.result.rpr'/,
    );
  });
});
