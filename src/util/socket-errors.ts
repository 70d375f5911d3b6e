/**
 * Socket-level failures after which the server may answer again: the codes undici's own retry handler
 * retries on, plus DNS failures and connect timeouts. Shared by every HTTP client in rpr-select (pool
 * downloads, annotation platforms); each adds what its own requests can safely retry.
 */
export const TRANSIENT_SOCKET_ERRORS: readonly string[] = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
];
