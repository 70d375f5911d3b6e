/** `rpr-select diagnose`: spectra, class imbalance and spectral gain of a model, as report.json + report.html. */
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { runDiagnose } from '../../diagnostics/index.js';
import { resolvePoolSpec } from '../../pool/index.js';
import { bundledModelPath } from '../../util/package-root.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';
import { commandEnv } from '../command-env.js';
import { parseKs } from './score.js';

interface DiagnoseArgs extends GlobalArgs {
  readonly model?: string;
  readonly eval?: string;
  readonly baseline?: string;
  readonly checkpoints?: string;
  readonly pool?: string;
  readonly 'max-pool': number;
  readonly 'svd-neurons'?: number;
  readonly 'svd-neuron-images': number;
  readonly out: string;
  readonly k?: string;
  readonly 'max-eval': number;
  readonly probes: number;
  readonly 'operator-spectrum': boolean;
}

export function diagnoseCommand(ctx: CliContext): CommandModule<GlobalArgs, DiagnoseArgs> {
  return {
    command: 'diagnose',
    describe: 'Diagnose a model: conv-weight spectra (random-matrix theory), class imbalance by RPR/LPR, spectral gain',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('model', { type: 'string', describe: 'TF.js model directory or model.json (default: the bundled MNIST CNN)' })
        .option('eval', { type: 'string', describe: 'Labeled evaluation set: DIR/<class>/<image> (class name or index) or a JSONL manifest of {"path", "label"}' })
        .option('baseline', { type: 'string', describe: 'A reference model (e.g. trained on balanced data) to compare class by class on the --eval images' })
        .option('checkpoints', { type: 'string', describe: 'Directory of checkpoints (sub-directories with model.json, ordered by name) for gain over training' })
        .option('pool', { type: 'string', describe: 'Unlabeled images (a directory or manifest, as for score --pool): ranked by the SVD neurons they excite; gain probes when there is no --eval' })
        .option('max-pool', { type: 'number', default: 1000, describe: 'Pool images read at most' })
        .option('svd-neurons', { type: 'number', describe: 'Leading singular directions per layer whose most exciting pool images are listed (needs --pool; default 8)' })
        .option('svd-neuron-images', { type: 'number', default: 9, describe: 'Pool images listed per singular direction' })
        .option('out', { type: 'string', demandOption: true, describe: 'Output directory for report.json and report.html' })
        .option('k', { type: 'string', describe: 'Ranks for RPR_k/LPR_k (default 1, m/2, m−1)' })
        .option('max-eval', { type: 'number', default: 2000, describe: 'Evaluation images scored at most' })
        .option('probes', { type: 'number', default: 16, describe: 'Probe images for the gain curves: from --eval, else --pool, else held-out MNIST digits for a 28×28×1 model' })
        .option('operator-spectrum', { type: 'boolean', default: false, describe: 'Also compute the exact spectrum of each stride-1 conv operator (FFT per frequency)' })
        .example('$0 diagnose --eval ./eval --checkpoints ./ckpt --out ./report', 'class imbalance and gain over training')
        .example('$0 diagnose --pool ./images --svd-neurons 4 --out ./report', 'the pool images each layer’s top 4 singular directions respond to most') as unknown as Argv<DiagnoseArgs>,
    handler: async (args) => {
      const { log } = commandEnv(ctx, args);
      const result = await runDiagnose({
        modelPath: args.model ?? bundledModelPath(),
        outDir: resolve(ctx.cwd, args.out),
        ...(args.eval ? { evalSpec: resolve(ctx.cwd, args.eval) } : {}),
        ...(args.baseline ? { baselinePath: resolve(ctx.cwd, args.baseline) } : {}),
        ...(args.checkpoints ? { checkpointsDir: resolve(ctx.cwd, args.checkpoints) } : {}),
        ...(args.pool ? { poolSpec: resolvePoolSpec(ctx.cwd, args.pool) } : {}),
        maxPoolImages: args['max-pool'],
        ...(args['svd-neurons'] !== undefined ? { svdNeurons: args['svd-neurons'] } : {}),
        svdNeuronImages: args['svd-neuron-images'],
        ...(args.k ? { ks: parseKs(args.k) } : {}),
        maxEvalImages: args['max-eval'],
        probes: args.probes,
        operatorSpectrum: args['operator-spectrum'],
        onProgress: (message) => log.info(message),
      });
      const { report, files } = result;
      const flagged = report.classImbalance?.underRepresented ?? [];
      const baseline = report.classImbalance?.baseline ?? null;
      if (args.json) {
        ctx.stdout.write(
          `${JSON.stringify({ files, model: report.model, underRepresented: flagged, ...(baseline ? { againstBaseline: baseline.flagged } : {}), gainTrend: report.gain?.trend ?? null })}\n`,
        );
      } else if (!args.quiet) {
        ctx.stdout.write(`wrote ${files.json} and ${files.html}\n`);
        if (report.classImbalance) ctx.stdout.write(`under-represented classes: ${flagged.length > 0 ? flagged.join(', ') : 'none'}\n`);
        if (baseline) ctx.stdout.write(`against the baseline: ${baseline.flagged.length > 0 ? baseline.flagged.join(', ') : 'none'}\n`);
      }
    },
  };
}
