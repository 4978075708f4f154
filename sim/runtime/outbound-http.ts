/**
 * Every HTTP request the handler (through the AWS SDK) sends: tagged with the invocation that
 * sent it, counted for the driver's quiescence check, and refused unless it goes to loopback.
 *
 * The SDK's node-http-handler calls `http.request` through the module object at call time (also
 * in an esbuild bundle), so wrapping the property reaches it without touching the bundle.
 */
import { AsyncLocalStorage } from 'async_hooks';
// `import =` keeps the real module object: a namespace import's properties are read-only getters.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import http = require('http');
// eslint-disable-next-line @typescript-eslint/no-require-imports
import https = require('https');

/** The header the emulator reads to attribute a request to an invocation (sim/README.md). */
export const INVOCATION_HEADER = 'x-sim-invocation';

export interface InvocationScope {
  readonly invocationId: string;
  /** Called when the invocation sends a request; returns the request's 1-based index. */
  onRequestSent(): number;
  /** Called when the response to request number `index` starts arriving. */
  onResponse(index: number): void;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export class OutboundHttp {
  /** The invocation a piece of async work belongs to. */
  readonly scope = new AsyncLocalStorage<InvocationScope>();
  /** Requests sent to the emulator minus those it has received (or that failed on the way). */
  private sent = 0;
  private received = 0;
  private failedUnreceived = 0;
  /** Bumped on every client-side step (sent, response, end, error), for the driver. */
  activity = 0;
  /** Bumped when a response ends or a request fails: the SDK's next steps may take several turns. */
  hotActivity = 0;
  private original: typeof http.request | undefined;

  /** Requests on their way to the emulator: time must not move while one is in the wire. */
  get inTransit(): number {
    return Math.max(0, this.sent - this.received - this.failedUnreceived);
  }

  /** The emulator calls this (through its onRequest hook) for every request carrying the header. */
  noteReceived(): void {
    this.received++;
    this.activity++;
  }

  install(): () => void {
    if (this.original) throw new Error('outbound HTTP is already intercepted');
    const original = http.request;
    this.original = original;
    const self = this;
    const wrapped = function (this: unknown, ...args: any[]): http.ClientRequest {
      const options = requestOptions(args);
      const host = String(options.hostname ?? options.host ?? 'localhost').replace(/:\d+$/, '');
      if (!LOOPBACK.has(host)) {
        // The simulation must never reach the network: fail the way an unreachable host does.
        throw Object.assign(new Error(`sim: refusing a non-loopback request to ${host}`), { code: 'ENOTFOUND' });
      }
      const scope = self.scope.getStore();
      if (scope) setHeader(args, INVOCATION_HEADER, scope.invocationId);
      const request = (original as any).apply(this, args) as http.ClientRequest;
      if (scope) self.track(request, scope);
      return request;
    };
    (http as any).request = wrapped;
    // The emulator speaks plain HTTP on loopback: an HTTPS request can only be one to AWS itself
    // (a client whose endpoint the runtime does not set). Refused before any lookup or connection.
    const originalHttps = https.request;
    (https as any).request = function (...args: any[]): http.ClientRequest {
      const options = requestOptions(args);
      const host = String(options.hostname ?? options.host ?? 'localhost');
      throw Object.assign(new Error(`sim: refusing an HTTPS request to ${host}: the emulator is reached over HTTP on loopback`), { code: 'ENOTFOUND' });
    };
    return () => {
      (http as any).request = original;
      (https as any).request = originalHttps;
      this.original = undefined;
    };
  }

  private track(request: http.ClientRequest, scope: InvocationScope): void {
    this.activity++;
    const index = scope.onRequestSent();
    let answered = false;
    // In transit from the moment it has a socket. A request queued in the agent (the SDK allows
    // 50 sockets; more concurrent requests wait for one) cannot reach the emulator until an
    // earlier answer ends, and that answer may wait on the clock (latency): counting it as busy
    // would stop time for good.
    let dispatched = false;
    request.once('socket', () => {
      dispatched = true;
      this.sent++;
      this.activity++;
    });
    request.on('response', response => {
      answered = true;
      this.activity++;
      scope.onResponse(index);
      response.on('end', () => { this.activity++; this.hotActivity++; });
    });
    request.on('error', () => {
      this.activity++;
      this.hotActivity++;
      // Refused before the emulator saw it (ECONNREFUSED, socket reset on connect).
      if (dispatched && !answered && !request.reusedSocket && request.socket?.bytesWritten === 0) this.failedUnreceived++;
    });
  }
}

function requestOptions(args: any[]): http.RequestOptions {
  const first = args[0];
  if (typeof first === 'string' || first instanceof URL) {
    const url = new URL(first.toString());
    return { hostname: url.hostname, ...(typeof args[1] === 'object' ? args[1] : {}) };
  }
  return first ?? {};
}

function setHeader(args: any[], name: string, value: string): void {
  const index = typeof args[0] === 'string' || args[0] instanceof URL ? 1 : 0;
  if (typeof args[index] !== 'object' || args[index] === null) args.splice(index, 0, {});
  const options = args[index];
  options.headers = { ...(options.headers ?? {}), [name]: value };
}
