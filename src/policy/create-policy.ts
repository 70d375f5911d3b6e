import { errors } from '../errors/index.js';
import { DEFAULT_HYBRID, hybridPolicy } from './hybrid-policy.js';
import { randomPolicy } from './random-policy.js';
import { highestRprPolicy, lowestRprPolicy } from './rpr-policies.js';
import { uncertaintyPolicy } from './uncertainty-policies.js';
import type { Policy, PolicyOptions } from './types.js';

const factories = {
  'lowest-rpr': (options: PolicyOptions) => lowestRprPolicy(options.k ?? null),
  'highest-rpr': (options: PolicyOptions) => highestRprPolicy(options.k ?? null),
  random: (options: PolicyOptions) => randomPolicy(options.seed ?? 0),
  entropy: () => uncertaintyPolicy('entropy'),
  margin: () => uncertaintyPolicy('margin'),
  'least-confidence': () => uncertaintyPolicy('least-confidence'),
  hybrid: (options: PolicyOptions) => hybridPolicy(options.k ?? null, { ...DEFAULT_HYBRID, ...options.hybrid }),
} as const satisfies Record<string, (options: PolicyOptions) => Policy>;

export type PolicyName = keyof typeof factories;

/** Every policy name, default first. */
export const POLICY_NAMES = Object.keys(factories) as PolicyName[];

export function isPolicyName(name: string): name is PolicyName {
  return Object.hasOwn(factories, name);
}

/** The policy called `name`; RPR_UNKNOWN_NAME listing the valid names otherwise. */
export function createPolicy(name: string, options: PolicyOptions = {}): Policy {
  if (!isPolicyName(name)) throw errors.unknownName('policy', name, POLICY_NAMES);
  return factories[name](options);
}
