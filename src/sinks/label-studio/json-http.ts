/**
 * The small HTTP server side that Label Studio calls into (the ML backend, the webhook listener): JSON
 * bodies in and out, errors as a status and a message, listening and closing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A failure answered with `status` and `{"status": "error", "error": message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface JsonServer {
  /** http://host:port of the bound address. */
  readonly url: string;
  close(): Promise<void>;
}

/** The route of a request: 'METHOD /path', without the query and trailing slashes. */
export function routeOf(req: IncomingMessage): string {
  const path = new URL(req.url ?? '/', 'http://server').pathname.replace(/\/+$/, '') || '/';
  return `${req.method ?? 'GET'} ${path}`;
}

/**
 * Listens on host:port (0: any free port). A handler's HttpError is answered with its status, anything
 * else with 500; `onError` is told of each failure.
 */
export async function startJsonServer(options: {
  readonly host: string;
  readonly port: number;
  readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  readonly onError?: (req: IncomingMessage, message: string) => void;
}): Promise<JsonServer> {
  const server = createServer((req, res) => {
    options.handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      options.onError?.(req, message);
      if (!res.headersSent) sendJson(res, status, { status: 'error', error: message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, close: () => closeServer(server) };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** The request's JSON body ({} when empty); 413 over `limit` bytes, 400 when it is not JSON. */
export async function readJsonBody<T>(req: IncomingMessage, limit: number): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return (text === '' ? {} : JSON.parse(text)) as T;
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
