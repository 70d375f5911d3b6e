/**
 * The policies the evaluation compares, each a product policy (createPolicy) scored the way `select`
 * would score it, with diversity (greedy k-center over the scorer's coords) on or off where it applies.
 */
import { errors } from '../errors/index.js';

/** How a variant's candidates are scored: not at all (random), per-sample RPR, or reference-mode RPR. */
export type VariantScoring = 'none' | 'per-sample' | 'reference';

export interface PolicyVariant {
  /** Unique label in results and plots, e.g. `lowest-rpr/reference+div`. */
  readonly id: string;
  /** A createPolicy name. */
  readonly policy: string;
  readonly scoring: VariantScoring;
  readonly diversity: boolean;
}

function variant(policy: string, scoring: VariantScoring, diversity: boolean): PolicyVariant {
  const base = scoring === 'reference' ? `${policy}/reference` : policy;
  return { id: diversity ? `${base}+div` : base, policy, scoring, diversity };
}

/**
 * Random (scores nothing, so diversity has no coordinates to spread over) and six scored policies,
 * each without and with diversity. Uncertainty and hybrid policies need logits, so they score per
 * sample; lowest-RPR runs in both scoring modes.
 */
export const POLICY_VARIANTS: readonly PolicyVariant[] = [
  variant('random', 'none', false),
  ...(
    [
      ['entropy', 'per-sample'],
      ['margin', 'per-sample'],
      ['lowest-rpr', 'per-sample'],
      ['lowest-rpr', 'reference'],
      ['highest-rpr', 'per-sample'],
      ['hybrid', 'per-sample'],
    ] as const
  ).flatMap(([policy, scoring]) => [variant(policy, scoring, false), variant(policy, scoring, true)]),
];

/** The variants named in `ids` (all when null), in POLICY_VARIANTS order; RPR_UNKNOWN_NAME otherwise. */
export function pickVariants(ids: readonly string[] | null): PolicyVariant[] {
  if (ids === null) return [...POLICY_VARIANTS];
  const known = POLICY_VARIANTS.map((v) => v.id);
  for (const id of ids) if (!known.includes(id)) throw errors.unknownName('evaluation policy', id, known);
  return POLICY_VARIANTS.filter((v) => ids.includes(v.id));
}
