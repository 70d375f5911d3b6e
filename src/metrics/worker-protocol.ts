/** Messages between the scoring pool and its worker threads. */
import type { ErrorCode } from '../errors/index.js';
import type { Sample } from '../pool/types.js';
import type { ScoreResult } from './types.js';

export interface WorkerRequest {
  readonly id: number;
  readonly samples: readonly Sample[];
}

export type WorkerReply =
  | { readonly kind: 'ready'; readonly backend: string }
  | { readonly kind: 'results'; readonly id: number; readonly results: ScoreResult[]; readonly passes: number }
  | { readonly kind: 'error'; readonly id: number; readonly code: ErrorCode; readonly message: string };
