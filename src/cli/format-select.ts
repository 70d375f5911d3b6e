/** What `select` prints: the JSON object scripts read, or a short summary for people. */
import type { ResolvedConfig } from '../config/index.js';
import { formatAmount, type SelectOutcome } from '../rounds/index.js';

/** The `select --json` object. These keys are a contract: add fields, never rename them. */
export function selectJson(outcome: SelectOutcome, config: ResolvedConfig): Record<string, unknown> {
  const { report } = outcome;
  return {
    round: report.round,
    selected: report.selected.map((s) => ({
      id: s.id,
      uri: s.uri,
      rank: s.rank,
      score: s.score,
      cost: s.cost,
      predicted: s.predicted,
      scores: s.scores,
      taskId: s.taskId,
    })),
    skipped: report.skipped.map((s) => ({ uri: s.uri, reason: s.reason, id: s.id })),
    budget: {
      total: report.budget.total,
      spent: report.budget.spent,
      left: report.budget.left,
      unit: report.budget.unit,
      round: report.budget.roundSpent,
    },
    policy: report.policy,
    k: policyK(config),
    backend: outcome.backend,
    sink: report.sink,
    resumed: report.resumed,
    dryRun: report.dryRun,
    counts: report.counts,
  };
}

/** The k the policy ranks by. */
export function policyK(config: ResolvedConfig): number {
  return config.policy.k ?? Math.max(...config.scoring.ks);
}

/** Why a policy puts an image first, in a few words. */
export function policyReason(config: ResolvedConfig, name: string): string {
  const k = policyK(config);
  const { hybrid } = config.policy;
  switch (name) {
    case 'lowest-rpr':
      return `lowest RPR_${k} first (images mostly outside the model's top-${k} input directions)`;
    case 'highest-rpr':
      return `highest RPR_${k} first`;
    case 'random':
      return `uniformly at random (seed ${config.policy.seed})`;
    case 'entropy':
      return 'highest predictive entropy first';
    case 'margin':
      return 'smallest gap between the two most probable classes first';
    case 'least-confidence':
      return 'lowest top-class probability first';
    case 'hybrid':
      return `highest ${hybrid.rprWeight}·(1 − RPR_${k}) + ${hybrid.uncertaintyWeight}·${hybrid.uncertainty} (normalized) first`;
    default:
      return name;
  }
}

const SHOWN = 5;

export function selectSummary(outcome: SelectOutcome, config: ResolvedConfig): string {
  const { report } = outcome;
  const { budget, counts } = report;
  const unit = budget.unit;
  const target = report.sink === 'jsonl' ? `the jsonl queue ${config.sink.jsonl.path}` : `the ${report.sink} sink`;
  const extras: string[] = [];
  if (config.policy.diversity.enabled) extras.push('spread by k-center diversity');
  if (config.policy.quotas.maxClassShare !== null) extras.push(`at most ${config.policy.quotas.maxClassShare * 100}% per predicted class`);
  const how = `${report.policy}: ${policyReason(config, report.policy)}${extras.length > 0 ? `, ${extras.join(', ')}` : ''}`;
  const lines: string[] = [];
  if (report.dryRun) {
    lines.push(`dry run: round ${report.round} would ${report.resumed ? 'finish queuing' : 'select'} ${report.selected.length} images by ${how}; nothing was written`);
  } else if (report.resumed) {
    lines.push(`round ${report.round} resumed: the ${report.selected.length} images an interrupted run selected by ${report.policy} are now in ${target}`);
  } else {
    lines.push(`round ${report.round}: selected ${report.selected.length} images by ${how}, queued in ${target}`);
  }
  if (!report.resumed) {
    const parts = [`${counts.seen} images seen`, `${counts.ranked} ranked`];
    if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
    if (counts.alreadySelected > 0) parts.push(`${counts.alreadySelected} selected in earlier rounds`);
    if (counts.overQuota > 0) parts.push(`${counts.overQuota} passed over by class quotas`);
    lines.push(`  pool: ${parts.join(', ')}${outcome.backend ? `; scored on ${outcome.backend}` : ''}`);
  }
  // The budget is reported as it stands after the round; a dry run only says what that would be.
  const used = report.dryRun ? 'would be used' : 'used';
  lines.push(
    `  budget: ${formatAmount(budget.roundSpent)} ${unit} this round; ${formatAmount(budget.spent)} of ${formatAmount(budget.total)} ${used}, ${formatAmount(budget.left)} left`,
  );
  // An uncertainty policy's own score first, then the RPR the product is about.
  const keys = [...new Set([report.policy, `rpr@${policyK(config)}`])];
  const top = report.selected.slice(0, SHOWN).map((s) => {
    const shown = keys.flatMap((key) => (s.scores[key] === undefined ? [] : [`${key} ${s.scores[key]!.toFixed(4)}`]));
    return `#${s.rank} ${s.uri}${shown.length === 0 ? '' : ` (${shown.join(', ')})`}`;
  });
  if (top.length > 0) lines.push(`  first: ${top.join(', ')}${report.selected.length > SHOWN ? ', …' : ''}`);
  if (report.skipped.length > 0) {
    const first = report.skipped[0]!;
    lines.push(`  skipped ${report.skipped.length}: ${first.uri}: ${first.reason}${report.skipped.length > 1 ? ' … (--json lists all)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
