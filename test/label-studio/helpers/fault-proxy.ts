/**
 * An HTTP proxy that sits between a client and a Label Studio (real or fake) and breaks chosen requests:
 * drops the connection before or after forwarding, answers an error status with or without forwarding,
 * holds the answer back past the client's timeout, or swaps the request's access token. Each rule fires
 * `times` times on requests matching its method and path, then the proxy forwards faithfully. Every
 * request is logged with its arrival time, body and the status the client got.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export type Fault =
  /** The request body is read, then the connection is destroyed; the server never sees the request. */
  | { readonly kind: 'drop-before' }
  /** The server handles the request; the connection is destroyed instead of passing the answer on. */
  | { readonly kind: 'drop-after' }
  /** Answers `status` (e.g. 500, or 429 with Retry-After); with `forward` the server handled it anyway. */
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly forward: boolean }
  /** The server handles the request; its answer is held back `ms` before being passed on. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Forwarded with a forged Bearer token (a signature no server issued), so the server itself answers 401. */
  | { readonly kind: 'corrupt-auth' }
  /**
   * Forwarded with the first Bearer token the proxy passed on, as a client whose clock runs behind would
   * send it: a token the server really issued, expired by now if the test waited out its lifetime.
   */
  | { readonly kind: 'first-auth' }
  /** Forwarded with its JSON body rewritten (the log keeps the body as sent). */
  | { readonly kind: 'rewrite-json'; readonly rewrite: (body: Record<string, unknown>) => Record<string, unknown> };

/** A well-formed access JWT that expired long ago and carries a signature no server issued. */
const FORGED_ACCESS_TOKEN = [
  Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url'),
  Buffer.from(JSON.stringify({ token_type: 'access', exp: 1_600_000_000, jti: 'x', user_id: '1' })).toString('base64url'),
  Buffer.from('not a signature').toString('base64url'),
].join('.');

export interface FaultRule {
  readonly method?: string;
  readonly path: RegExp;
  readonly fault: Fault;
  /** @defaultValue 1 */
  times?: number;
}

export interface ProxyLogEntry {
  readonly method: string;
  readonly path: string;
  readonly fault: Fault['kind'] | null;
  /** When the request arrived, in ms (performance.now()). */
  readonly at: number;
  readonly body: string;
  /** The status passed back to the client; null until answered, and when the connection was dropped. */
  status: number | null;
  /** When the answer was passed back (performance.now()); null until then. */
  answeredAt: number | null;
}

/**
 * Fails unless the request that carried `fault` was refused by the server (401), and the client then
 * exchanged its PAT for a new access token and sent the same request again, which succeeded.
 */
export function expectRefusedTokenRenewed(log: readonly ProxyLogEntry[], fault: Fault['kind']): void {
  const at = log.findIndex((entry) => entry.fault === fault);
  expect(at).toBeGreaterThanOrEqual(0);
  const refused = log[at]!;
  expect(refused.status).toBe(401);
  const later = log.slice(at + 1);
  const resent = later.findIndex((e) => e.method === refused.method && e.path === refused.path && e.body === refused.body);
  expect(resent).toBeGreaterThan(0);
  expect(later.slice(0, resent).some((e) => e.path.startsWith('/api/token/refresh') && e.status === 200)).toBe(true);
  expect(later[resent]!.status).toBeLessThan(300);
}

interface Forwarded {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

export class FaultProxy {
  readonly log: ProxyLogEntry[] = [];
  readonly #target: URL;
  readonly #rules: FaultRule[] = [];
  readonly #stopping = new AbortController();
  #server: Server | null = null;
  #firstBearer: string | null = null;
  url = '';

  constructor(target: string) {
    this.#target = new URL(target);
  }

  add(...rules: FaultRule[]): this {
    this.#rules.push(...rules);
    return this;
  }

  /** Rules that have not fired as often as asked. */
  pendingRules(): readonly FaultRule[] {
    return this.#rules.filter((rule) => (rule.times ?? 1) > 0);
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const rule = this.#rules.find(
      (r) => (r.times ?? 1) > 0 && (r.method === undefined || r.method === method) && r.path.test(path),
    );
    if (rule) rule.times = (rule.times ?? 1) - 1;
    const fault = rule?.fault ?? null;
    const entry: ProxyLogEntry = { method, path, fault: fault?.kind ?? null, at: performance.now(), body: body.toString('utf8'), status: null, answeredAt: null };
    this.log.push(entry);
    const answer = (forwarded: Forwarded) => {
      entry.status = forwarded.status;
      entry.answeredAt = performance.now();
      reply(res, forwarded);
    };
    const injected = (status: number, headers: Readonly<Record<string, string>> = {}) =>
      answer({ status, headers: { ...headers }, body: Buffer.from('{"detail":"injected"}') });

    if (fault?.kind === 'drop-before') return void req.socket.destroy();
    if (fault?.kind === 'status' && !fault.forward) return injected(fault.status, fault.headers);
    const sent = fault?.kind === 'rewrite-json' ? Buffer.from(JSON.stringify(fault.rewrite(JSON.parse(body.toString('utf8')) as Record<string, unknown>))) : body;
    const forwarded = await this.#forward(req, method, path, sent, this.#authorization(req, fault));
    switch (fault?.kind) {
      case 'drop-after':
        return void req.socket.destroy();
      case 'status':
        return injected(fault.status, fault.headers);
      case 'delay':
        try {
          await sleep(fault.ms, undefined, { signal: this.#stopping.signal });
        } catch {
          return void req.socket.destroy();
        }
        if (!req.socket.destroyed) answer(forwarded);
        return;
      default:
        answer(forwarded);
    }
  }

  /** The Authorization header to forward the request with. */
  #authorization(req: IncomingMessage, fault: Fault | null): string | undefined {
    const sent = req.headers['authorization'];
    if (sent?.startsWith('Bearer ')) this.#firstBearer ??= sent;
    if (fault?.kind === 'corrupt-auth') return `Bearer ${FORGED_ACCESS_TOKEN}`;
    if (fault?.kind === 'first-auth') {
      if (this.#firstBearer === null) throw new Error('first-auth: no Bearer token has passed the proxy yet');
      return this.#firstBearer;
    }
    return sent;
  }

  #forward(req: IncomingMessage, method: string, path: string, body: Buffer, authorization: string | undefined): Promise<Forwarded> {
    const headers = { ...req.headers, host: this.#target.host, 'content-length': String(body.length) };
    delete headers['connection'];
    if (authorization === undefined) delete headers['authorization'];
    else headers['authorization'] = authorization;
    return new Promise((resolve, reject) => {
      const upstream = request(
        { host: this.#target.hostname, port: this.#target.port, method, path, headers, agent: false },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const copied: Record<string, string | string[]> = {};
            for (const [key, value] of Object.entries(response.headers)) {
              if (value !== undefined && !['transfer-encoding', 'connection', 'content-length'].includes(key)) copied[key] = value;
            }
            resolve({ status: response.statusCode ?? 502, headers: copied, body: Buffer.concat(chunks) });
          });
          response.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }
}

function reply(res: ServerResponse, answer: Forwarded): void {
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    ...answer.headers,
    'content-length': String(answer.body.length),
  });
  res.end(answer.body);
}
