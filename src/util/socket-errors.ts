/**
 * Socket-level failures that happen before a request is sent (the connection or its address lookup
 * failed): the server cannot be acting on such a request, so even one that is not idempotent may go again.
 */
export const NOT_SENT_SOCKET_ERRORS: readonly string[] = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
];

/**
 * Socket-level failures after which the server may answer again: the codes undici's own retry handler
 * retries on, plus DNS failures and connect timeouts. Shared by every HTTP client in rpr-select (pool
 * downloads, annotation platforms); each adds what its own requests can safely retry.
 */
export const TRANSIENT_SOCKET_ERRORS: readonly string[] = [
  ...NOT_SENT_SOCKET_ERRORS,
  // Failures that can come after the request left: the server may be acting on it.
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
];
