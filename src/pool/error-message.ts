/**
 * The message of any thrown value. Duck-typed rather than `instanceof Error`: errors made by native
 * code (sharp, sockets) can come from another realm, such as the host realm under a test VM.
 */
export function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** The `code` of a thrown value (an errno name such as ECONNREFUSED), looking through `cause`. */
export function errorCode(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    current = cause;
  }
  return null;
}
