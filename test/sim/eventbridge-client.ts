/**
 * A small EventBridge client for the emulator's tests, as `@aws-sdk/client-eventbridge` would
 * send its requests (that package is not a dependency of the project): AWS JSON 1.1 over HTTP POST
 * to `/`, `X-Amz-Target: AWSEvents.<Operation>`, `Content-Type: application/x-amz-json-1.1`, a
 * Signature Version 4 `Authorization` header (the emulator does not check it), timestamps as epoch
 * seconds (the protocol's default, what the SDK writes for a `Date`), errors read from `__type`.
 * Not a test file itself (no .test.ts suffix).
 */
import { createHash, createHmac } from 'crypto';
import * as http from 'http';

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: Date;
  TraceHeader?: string;
}

export interface PutEventsOutput {
  FailedEntryCount: number;
  Entries: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
}

/** A service error, as the SDK surfaces it: `name` is the error code. */
export class EventBridgeServiceError extends Error {
  constructor(readonly name: string, message: string, readonly httpStatusCode: number) {
    super(message);
  }
}

export interface EventBridgeClientOptions {
  /** Sent as `x-sim-invocation`: the request acts as that invocation's role. */
  readonly invocationId?: string;
  readonly region?: string;
}

export class EventBridgeClient {
  constructor(private readonly endpoint: string, private readonly options: EventBridgeClientOptions = {}) {}

  async putEvents(entries: PutEventsEntry[], extra: Record<string, unknown> = {}): Promise<PutEventsOutput> {
    const body = {
      ...extra,
      Entries: entries.map(({ Time, ...rest }) => ({ ...rest, ...(Time ? { Time: Time.getTime() / 1000 } : {}) })),
    };
    return await this.send('PutEvents', body) as PutEventsOutput;
  }

  /** One JSON 1.1 call; resolves the output, rejects with an EventBridgeServiceError. */
  async send(operation: string, input: unknown): Promise<unknown> {
    const { status, text } = await this.request(operation, JSON.stringify(input));
    const parsed = text.length > 0 ? JSON.parse(text) : {};
    if (status >= 300) {
      const code = String(parsed.__type ?? 'UnknownError').split('#').pop()!;
      throw new EventBridgeServiceError(code, String(parsed.message ?? parsed.Message ?? ''), status);
    }
    return parsed;
  }

  private request(operation: string, body: string): Promise<{ status: number; text: string }> {
    const url = new URL(this.endpoint);
    const headers = signedHeaders(url.host, `AWSEvents.${operation}`, body, this.options.region ?? 'us-east-1');
    if (this.options.invocationId !== undefined) headers['x-sim-invocation'] = this.options.invocationId;
    return new Promise((resolve, reject) => {
      const req = http.request({ hostname: url.hostname, port: url.port, path: '/', method: 'POST', headers }, res => {
        const chunks: Buffer[] = [];
        res.on('data', chunk => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** Signature Version 4 ("Create a signed AWS API request", IAM user guide), with dummy credentials. */
function signedHeaders(host: string, target: string, body: string, region: string): Record<string, string> {
  const now = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
  const date = now.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    'host': host,
    'x-amz-date': now,
    'x-amz-target': target,
  };
  const names = Object.keys(headers).sort();
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  const canonical = ['POST', '/', '', ...names.map(n => `${n}:${headers[n]}`), '', names.join(';'), sha256(body)].join('\n');
  const scope = `${date}/${region}/events/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', now, scope, sha256(canonical)].join('\n');
  const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();
  const key = ['events', 'aws4_request'].reduce((k, part) => hmac(k, part), hmac(hmac('AWS4dummy-secret', date), region));
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return {
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
    'authorization': `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}
