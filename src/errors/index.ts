export { RprError, ErrorCodes, ExitCode, exitCodeFor, errors } from './rpr-error.js';
export type { ErrorCode, ErrorContext, ExitCodeValue } from './rpr-error.js';
