/**
 * One loopback HTTP server for every service. ECS requests carry
 * `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>` (JSON 1.1), EventBridge requests
 * `X-Amz-Target: AWSEvents.<Op>` (JSON 1.1, the target prefix of the EventBridge service model);
 * Auto Scaling requests are form-encoded with `Action=<Op>&Version=2011-01-01` (Query protocol).
 * Signatures are not checked.
 *
 * Quiescence bookkeeping for the runtime's driver: `busyRequests` counts requests received whose
 * answer is neither sent nor scheduled on the clock; `activity` ticks on every request received
 * and every response sent.
 */
import * as http from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { SimClock } from '../clock';
import { AutoScalingApi } from './autoscaling-api';
import { CallContext, EcsApi } from './ecs-api';
import { ApiError, autoScalingErrors, ecsErrors, eventsErrors } from './errors';
import { EventBridgeApi } from './events-api';
import { FaultInjector } from './faults';
import { Authorizer } from './iam/authorizer';
import { Observer } from './observer';
import { errorXml, parseForm, responseXml } from './query-protocol';
import { SeededRandom } from './random';
import { Throttler } from './throttling';

const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
const EVENTS_TARGET_PREFIX = 'AWSEvents.';

export type ServiceName = 'ecs' | 'autoscaling' | 'events';

export interface RequestInfo {
  invocationId?: string;
  service: ServiceName;
  operation: string;
}

export type RequestHook = (info: RequestInfo) => 'continue' | 'hang';

interface Reply {
  status: number;
  contentType: string;
  body: string;
}

/** A request handed over without a socket (see EmulatorServer.answer): header names in any case. */
export interface InProcessRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** The answer to an InProcessRequest: what the server would write on the socket. */
export interface InProcessReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export class EmulatorServer {
  busyRequests = 0;
  activity = 0;
  onRequest?: RequestHook;
  private server?: http.Server;
  private readonly hungSockets = new Set<Socket>();

  constructor(
    private readonly clock: SimClock,
    private readonly random: SeededRandom,
    private readonly ecsApi: EcsApi,
    private readonly autoScalingApi: AutoScalingApi,
    private readonly eventsApi: EventBridgeApi,
    private readonly throttler: Throttler,
    private readonly faults: FaultInjector,
    private readonly observer: Observer,
    private readonly authorizer: Authorizer,
  ) {}

  async listen(): Promise<{ endpoint: string }> {
    const server = http.createServer((req, res) => this.receive(req, res));
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { endpoint: `http://127.0.0.1:${port}` };
  }

  close(): void {
    for (const socket of this.hungSockets) socket.destroy();
    this.hungSockets.clear();
    this.server?.closeAllConnections();
    this.server?.close();
  }

  private receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.busyRequests++;
    this.activity++;
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      let reply: Reply | undefined;
      try {
        reply = this.dispatch(req.headers, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        reply = { status: 500, contentType: 'text/plain', body: String(err) };
      }
      if (reply === undefined) {
        // 'hang': never answered, not busy; the socket goes when the emulator closes.
        this.busyRequests--;
        this.hungSockets.add(req.socket);
        return;
      }
      this.respond(res, reply);
    });
  }

  /**
   * One request answered in process, without a socket: the same dispatch as a request received on
   * the socket (onRequest, throttling, IAM, injected 5xx, the APIs), the same status, headers and
   * body. For callers whose SDK clients hand their requests over themselves (a request handler of
   * their own) and that do not move the clock: injected latency is neither drawn nor applied, the
   * answer is at once; busyRequests and activity, the driver's bookkeeping of the socket, are not
   * touched.
   * Undefined when onRequest says 'hang'.
   */
  answer(request: InProcessRequest): InProcessReply | undefined {
    const headers: http.IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name.toLowerCase()] = value;
    let reply: Reply | undefined;
    try {
      reply = this.dispatch(headers, request.body);
    } catch (err) {
      reply = { status: 500, contentType: 'text/plain', body: String(err) };
    }
    return reply && { status: reply.status, headers: this.replyHeaders(reply), body: reply.body };
  }

  private replyHeaders(reply: Reply): Record<string, string> {
    return {
      'content-type': reply.contentType,
      'content-length': String(Buffer.byteLength(reply.body)),
      'x-amzn-requestid': this.random.uuid(),
      // The service's clock is the world's (virtual) clock. Node would stamp the real time, and
      // the SDK, seeing its clients' (virtual) clock skewed by more than 5 minutes, would retry
      // every error once after correcting the skew: calls counted twice.
      'date': new Date(this.clock.now()).toUTCString(),
    };
  }

  private respond(res: http.ServerResponse, reply: Reply): void {
    const send = () => {
      this.activity++;
      if (res.destroyed) return;
      res.writeHead(reply.status, this.replyHeaders(reply));
      res.end(reply.body);
    };
    const latency = this.faults.latency();
    this.busyRequests--;
    if (latency > 0) this.clock.after(latency, send);
    else send();
  }

  /** Returns the reply, or undefined when the request must hang. */
  private dispatch(headers: http.IncomingHttpHeaders, body: string): Reply | undefined {
    const target = headers['x-amz-target'];
    const context: CallContext = { invocationId: header(headers, 'x-sim-invocation') };
    if (typeof target === 'string' && target.startsWith(ECS_TARGET_PREFIX)) {
      const operation = target.slice(ECS_TARGET_PREFIX.length);
      if (this.onRequest?.({ ...context, service: 'ecs', operation }) === 'hang') return undefined;
      return this.ecsReply(operation, body, context);
    }
    if (typeof target === 'string' && target.startsWith(EVENTS_TARGET_PREFIX)) {
      const operation = target.slice(EVENTS_TARGET_PREFIX.length);
      if (this.onRequest?.({ ...context, service: 'events', operation }) === 'hang') return undefined;
      return this.eventsReply(operation, body, context);
    }
    const params = parseForm(body);
    const action = params.get('Action');
    if (action !== undefined) {
      if (this.onRequest?.({ ...context, service: 'autoscaling', operation: action }) === 'hang') return undefined;
      return this.autoScalingReply(action, params, context);
    }
    return { status: 400, contentType: 'text/plain', body: 'Neither an ECS or EventBridge (X-Amz-Target) nor an Auto Scaling (Action=) request.' };
  }

  private ecsReply(operation: string, body: string, context: CallContext): Reply {
    const key = `ecs:${operation}`;
    this.observer.countCall(key);
    try {
      let parsed: unknown;
      const input = () => (parsed ??= body.length > 0 ? JSON.parse(body) : {});
      const authorized = this.ecsApi.supports(operation) ? context : {};
      this.admit('ecs', operation, key, authorized, input, { throttled: ecsErrors.throttling, failed: ecsErrors.server, denied: ecsErrors.accessDenied });
      const output = this.ecsApi.handle(operation, input(), context);
      return { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(output) };
    } catch (err) {
      const error = err instanceof ApiError ? err : ecsErrors.invalidParameter(`Could not process the request: ${String(err)}`);
      // JSON 1.1 errors: the SDK reads the code from `__type` (everything after a '#').
      return {
        status: error.httpStatus,
        contentType: 'application/x-amz-json-1.1',
        body: JSON.stringify({ __type: error.code, message: error.message }),
      };
    }
  }

  /**
   * EventBridge: throttling first (PutEvents' quota, throttling.ts), then an injected InternalException
   * (`putEvents.faults.errorRate`: the call changes nothing), then the operation, which asks IAM per
   * entry (events-api.ts): PutEvents has no whole-call authorization of its own.
   */
  private eventsReply(operation: string, body: string, context: CallContext): Reply {
    const key = `events:${operation}`;
    this.observer.countCall(key);
    try {
      const input = body.length > 0 ? JSON.parse(body) : {};
      if (!this.throttler.admit('events', operation)) {
        this.observer.countThrottled(key);
        throw eventsErrors.throttling();
      }
      if (this.eventsApi.supports(operation) && this.eventsApi.shouldFailCall()) {
        this.observer.countInjectedError(key);
        throw eventsErrors.internal();
      }
      const output = this.eventsApi.handle(operation, input, context);
      return { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(output) };
    } catch (err) {
      const error = err instanceof ApiError ? err : eventsErrors.validation(`Could not process the request: ${String(err)}`);
      return {
        status: error.httpStatus,
        contentType: 'application/x-amz-json-1.1',
        body: JSON.stringify({ __type: error.code, message: error.message }),
      };
    }
  }

  private autoScalingReply(action: string, params: Map<string, string>, context: CallContext): Reply {
    const key = `autoscaling:${action}`;
    const requestId = this.random.uuid();
    this.observer.countCall(key);
    try {
      if (params.get('Version') !== '2011-01-01') throw autoScalingErrors.validation('Version must be 2011-01-01.');
      const authorized = this.autoScalingApi.supports(action) ? context : {};
      this.admit('autoscaling', action, key, authorized, () => params, {
        throttled: autoScalingErrors.throttling, failed: autoScalingErrors.internal, denied: autoScalingErrors.accessDenied,
      });
      const result = this.autoScalingApi.handle(action, params);
      if (context.invocationId !== undefined) this.observer.noteLifecycleStates(context.invocationId, this.clock.now(), lifecycleStatesIn(result));
      return { status: 200, contentType: 'text/xml', body: responseXml(action, result, requestId) };
    } catch (err) {
      const error = err instanceof ApiError ? err : autoScalingErrors.internal();
      return {
        status: error.httpStatus,
        contentType: 'text/xml',
        body: errorXml(error.fault === 'client' ? 'Sender' : 'Receiver', error.code, error.message, requestId),
      };
    }
  }

  /**
   * `context` without an invocation: not checked (an operation the emulator does not serve is
   * answered as unknown by the API instead).
   * Throttling first (a throttled call never reaches the service; every request spends a token,
   * "Request throttling for the Amazon ECS API"), then IAM (a refused call changes nothing: IAM
   * decides before the service acts, IAM user guide "How IAM works"), then injected
   * 5xx faults. No AWS document orders throttling and authorization; see sim/emulator/iam/.
   */
  private admit(service: 'ecs' | 'autoscaling', operation: string, key: string, context: CallContext, input: () => unknown, errors: AdmissionErrors): void {
    if (!this.throttler.admit(service, operation)) {
      this.observer.countThrottled(key);
      throw errors.throttled();
    }
    const refusal = this.authorizer.authorize(context.invocationId, service, operation, input);
    if (refusal) {
      const { action, resource, principal, message } = refusal;
      this.observer.countDenied(key, { at: this.clock.now(), action, resource, principal, invocationId: context.invocationId, message });
      throw errors.denied(message);
    }
    if (this.faults.shouldFail()) {
      this.observer.countInjectedError(key);
      throw errors.failed();
    }
  }
}

interface AdmissionErrors {
  throttled(): ApiError;
  failed(): ApiError;
  denied(message: string): ApiError;
}

/** The instances and their lifecycle states an Auto Scaling answer shows (DescribeAutoScalingInstances, DescribeAutoScalingGroups, DescribeWarmPool). */
function lifecycleStatesIn(result: unknown): { instanceId: string; lifecycleState: string }[] {
  const r = result as { AutoScalingInstances?: unknown[]; AutoScalingGroups?: { Instances?: unknown[] }[]; Instances?: unknown[] } | undefined;
  const rows = [...r?.AutoScalingInstances ?? [], ...(r?.AutoScalingGroups ?? []).flatMap(g => g.Instances ?? []), ...r?.Instances ?? []];
  return rows.map(row => row as { InstanceId?: unknown; LifecycleState?: unknown })
    .filter(row => typeof row.InstanceId === 'string' && typeof row.LifecycleState === 'string')
    .map(row => ({ instanceId: row.InstanceId as string, lifecycleState: row.LifecycleState as string }));
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
