/**
 * Every error rpr-select throws on purpose is an RprError with a literal `code`, a message a user can act
 * on, and the context fields that name what was wrong. Callers branch on `code` (or `instanceof`),
 * never on message text; the CLI maps codes to exit statuses in one place (`exitCodeFor`).
 */

/** Exit statuses of the CLI; a contract for scripts (see README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  budgetSpent: 3,
  ledgerBusy: 4,
  sinkUnavailable: 5,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable error codes; the exit status each one maps to is fixed in `EXIT_BY_CODE`. */
export const ErrorCodes = [
  'RPR_USAGE',
  'RPR_CONFIG',
  'RPR_MODEL_NOT_FOUND',
  'RPR_MODEL_INVALID',
  'RPR_UNSUPPORTED_LAYER',
  'RPR_INPUT_SHAPE',
  'RPR_IMAGE_DECODE',
  'RPR_ZERO_IMAGE',
  'RPR_POOL_NOT_FOUND',
  'RPR_POOL_EMPTY',
  'RPR_FETCH',
  'RPR_BACKEND',
  'RPR_NUMERIC',
  'RPR_UNKNOWN_NAME',
  'RPR_BUDGET_SPENT',
  'RPR_LEDGER_BUSY',
  'RPR_LEDGER',
  'RPR_CACHE',
  'RPR_SINK_UNREACHABLE',
  'RPR_SINK_AUTH',
  'RPR_SINK_REFUSED',
  'RPR_SINK_NOT_FOUND',
  'RPR_DISTRIBUTED',
  'RPR_INTERNAL',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

const EXIT_BY_CODE: Record<ErrorCode, ExitCodeValue> = {
  RPR_USAGE: ExitCode.usage,
  RPR_CONFIG: ExitCode.usage,
  RPR_MODEL_NOT_FOUND: ExitCode.usage,
  RPR_MODEL_INVALID: ExitCode.usage,
  RPR_UNSUPPORTED_LAYER: ExitCode.usage,
  RPR_INPUT_SHAPE: ExitCode.usage,
  RPR_IMAGE_DECODE: ExitCode.failure,
  RPR_ZERO_IMAGE: ExitCode.failure,
  RPR_POOL_NOT_FOUND: ExitCode.usage,
  RPR_POOL_EMPTY: ExitCode.usage,
  RPR_FETCH: ExitCode.failure,
  RPR_BACKEND: ExitCode.failure,
  RPR_NUMERIC: ExitCode.failure,
  RPR_UNKNOWN_NAME: ExitCode.usage,
  RPR_BUDGET_SPENT: ExitCode.budgetSpent,
  RPR_LEDGER_BUSY: ExitCode.ledgerBusy,
  RPR_LEDGER: ExitCode.failure,
  RPR_CACHE: ExitCode.failure,
  RPR_SINK_UNREACHABLE: ExitCode.sinkUnavailable,
  RPR_SINK_AUTH: ExitCode.sinkUnavailable,
  RPR_SINK_REFUSED: ExitCode.sinkUnavailable,
  RPR_SINK_NOT_FOUND: ExitCode.sinkUnavailable,
  RPR_DISTRIBUTED: ExitCode.sinkUnavailable,
  RPR_INTERNAL: ExitCode.failure,
};

const kBrand = Symbol.for('rpr-select.RprError');

/** Context fields that name what was wrong: a file, a config key, a layer, a value. */
export type ErrorContext = Readonly<Record<string, string | number | boolean | null | undefined>>;

export class RprError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RprError';
    this.code = code;
    this.context = context;
    Object.defineProperty(this, kBrand, { value: true });
  }

  /** Brand check, so two copies of the package (a library and a CLI) still agree on instanceof. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kBrand] === true;
  }

  get exitCode(): ExitCodeValue {
    return EXIT_BY_CODE[this.code];
  }
}

/** The CLI's exit status for any thrown value: RprErrors by code, anything else is a failure (1). */
export function exitCodeFor(error: unknown): ExitCodeValue {
  return error instanceof RprError ? error.exitCode : ExitCode.failure;
}

/** Convenience constructors for the errors raised in many places. */
export const errors = {
  usage: (message: string, context?: ErrorContext) => new RprError('RPR_USAGE', message, context),
  config: (message: string, context?: ErrorContext) => new RprError('RPR_CONFIG', message, context),
  unsupportedLayer: (layerName: string, className: string, why?: string) =>
    new RprError(
      'RPR_UNSUPPORTED_LAYER',
      `layer '${layerName}' of class ${className} cannot be linearized${why ? `: ${why}` : ''}`,
      { layer: layerName, className },
    ),
  unknownName: (kind: string, name: string, valid: readonly string[]) =>
    new RprError('RPR_UNKNOWN_NAME', `unknown ${kind} '${name}'; valid names: ${valid.join(', ')}`, {
      kind,
      name,
    }),
  internal: (message: string, context?: ErrorContext) => new RprError('RPR_INTERNAL', message, context),
};
