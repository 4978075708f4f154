/**
 * Amazon EventBridge's PutEvents over JSON 1.1 (`X-Amz-Target: AWSEvents.PutEvents`), and the
 * account's event buses it puts on. Every rule cites its page:
 *
 * - EventBridge API reference, PutEvents: `Entries` holds 1 to 10 entries; "the total entry size
 *   must be less than 256KB", the size as the user guide's "Calculating PutEvents event entry size"
 *   counts it (`Time` 14 bytes if set, the UTF-8 bytes of `Source`, `DetailType`, `Detail` and each
 *   of `Resources`). Both are refused for the whole call (ValidationException, nothing is put):
 *   AWS answers an oversized request with "Total size of the entries in the request is over the
 *   limit." and an eleventh entry with a constraint violation on `entries`. The other constraints
 *   of the request's shape (PutEventsRequestEntry: EventBusName 1..1600 characters and its pattern,
 *   each of Resources at most 2048, TraceHeader 1..500) are refused the same way.
 * - PutEventsRequestEntry: "Detail, DetailType, and Source are required for EventBridge to
 *   successfully send an event to an event bus. If you include event entries in a request that do
 *   not include each of those properties, EventBridge fails that entry" (error code InvalidArgument,
 *   "Parameter Source is not valid. Reason: Source is a required argument.", as AWS answers it;
 *   an empty string counts as missing, the emulator's reading). "If you submit a request in which
 *   none of the entries have each of these properties, EventBridge fails the entire request": every
 *   entry then fails, and AWS still answers HTTP 200 with the failures, which is what the emulator
 *   does. DetailType: "a maximum of 128 characters" (a longer one fails its entry, InvalidArgument).
 *   Detail: "A valid JSON object" (anything else, a JSON string or array included, fails its entry:
 *   MalformedDetail, "Detail is malformed."). Time: "If no time stamp is provided, the time stamp of
 *   the PutEvents call is used." EventBusName: "The name or ARN of the event bus to receive the
 *   event. Only the rules that are associated with this event bus are used to match the event. If
 *   you omit this, the default event bus is used."
 * - PutEventsResultEntry and the user guide ("Sending events with PutEvents", Handling failures):
 *   the response has one result per entry, in order, an `EventId` or an `ErrorCode` and
 *   `ErrorMessage`; `FailedEntryCount` counts the latter; "if an individual entry within a request
 *   fails, EventBridge continues processing the rest of the entries". IAM is asked per entry
 *   (iam/operations.ts, EVENTS_AUTHORIZATION); a refused entry fails with `AccessDeniedException`
 *   and IAM's message. The reference also lists NotAuthorizedForSourceException and
 *   NotAuthorizedForDetailTypeException, without saying which refusal gets which code: the emulator
 *   answers every IAM refusal AccessDeniedException (a caller has to treat all three as final), and
 *   NotAuthorizedForSourceException ("Not authorized for the source.") for a `Source` beginning with
 *   `aws.`, which customers may not use ("Amazon EventBridge events", event structure: source).
 * - A bus that does not exist: no error code of PutEventsResultEntry says so, and AWS answers such
 *   an entry with an EventId and delivers it nowhere (reported to AWS SDK teams since 2022, still
 *   so in 2025). The emulator does that by default (`stats.putEvents.droppedUnknownBus`); option
 *   `unknownBus: 'fail'` fails the entry instead (ResourceNotFoundException, the emulator's choice,
 *   not AWS's). A bus ARN of another account or Region is a bus the emulator does not know.
 * - The event put on the bus has the structure of "Amazon EventBridge events" (event structure):
 *   `version` "0", `id` (the entry's EventId, a new one per entry), `detail-type`, `source`,
 *   `account`, `time` (RFC 3339 to the second), `region`, `resources` (the entry's, or none) and
 *   `detail` (the entry's Detail, parsed).
 *
 * Not modelled: global endpoints (`EndpointId`; refused), TraceHeader's X-Ray propagation (checked
 * for length only), the nesting depth limit of Detail, cross-account and cross-Region buses.
 */
import { SimClock } from '../clock';
import { CallContext } from './ecs-api';
import { ApiError, eventsErrors } from './errors';
import { EmittedEvent } from './events';
import { Authorizer } from './iam/authorizer';
import { DEFAULT_EVENT_BUS, eventBusArn } from './iam/operations';
import { Observer } from './observer';
import { SeededRandom } from './random';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

/** Injected PutEvents failures (for chaos rows), each drawn from the seed; off by default. */
export interface PutEventsFaults {
  /** Fraction (0..1) of calls answered InternalException (HTTP 500): nothing of the call is put. */
  readonly errorRate?: number;
  /**
   * Fraction (0..1) of entries that would have been accepted answered `InternalFailure` instead
   * (a retryable per-entry error, PutEventsResultEntry), in an HTTP 200 answer; not put on any bus.
   */
  readonly entryFailureRate?: number;
}

export interface PutEventsOptions {
  readonly faults?: PutEventsFaults;
  /**
   * An entry naming a bus that does not exist: `accept` (the default, what AWS does: an EventId,
   * delivered nowhere) or `fail` (ErrorCode ResourceNotFoundException; not what AWS does).
   */
  readonly unknownBus?: 'accept' | 'fail';
}

/** Where accepted entries go: the event and the name of the bus it was put on. */
export type BusDelivery = (event: EmittedEvent, eventBusName: string) => void;

/** "The total entry size must be less than 256KB" (PutEvents). */
export const MAX_TOTAL_ENTRY_SIZE_BYTES = 256 * 1024;
export const MAX_ENTRIES = 10;
/** PutEventsRequestEntry, DetailType: "a maximum of 128 characters". */
export const MAX_DETAIL_TYPE_LENGTH = 128;

/** PutEventsRequestEntry, EventBusName: length 1..1600 and this pattern. */
const EVENT_BUS_NAME_PATTERN = /^(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[.\-_A-Za-z0-9]+$/;
const EVENT_BUS_NAME_PATTERN_TEXT = '(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[\\.\\-_A-Za-z0-9]+';
/** CreateEventBus, Name: 1..256 characters of this pattern; "default" is the account's own bus. */
const NEW_BUS_NAME_PATTERN = /^[/.\-_A-Za-z0-9]{1,256}$/;

type ResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/**
 * "Calculating PutEvents event entry size" (EventBridge user guide): Time counts 14 bytes if set;
 * Source, DetailType, Detail and each of Resources the bytes of their UTF-8 form.
 */
export function entrySize(entry: Json): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  let size = entry.Time !== undefined && entry.Time !== null ? 14 : 0;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  for (const resource of Array.isArray(entry.Resources) ? entry.Resources : []) size += bytes(resource);
  return size;
}

export class EventBridgeApi {
  private readonly buses = new Set<string>([DEFAULT_EVENT_BUS]);
  private readonly handlers: Record<string, (input: Json, context: CallContext) => Json> = {
    PutEvents: (i, c) => this.putEvents(i, c),
  };

  constructor(
    private readonly clock: SimClock,
    /** Event ids. */
    private readonly random: SeededRandom,
    /** The injected faults' draws (a stream of their own: turning them on changes no id). */
    private readonly faultRandom: SeededRandom,
    private readonly observer: Observer,
    private readonly authorizer: Authorizer,
    private readonly region: string,
    private readonly accountId: string,
    private readonly deliver: BusDelivery,
    public options: PutEventsOptions = {},
  ) {}

  supports(operation: string): boolean {
    return operation in this.handlers;
  }

  /** Every operation served (each needs an IAM rule, sim/emulator/iam/operations.ts). */
  get operations(): string[] {
    return Object.keys(this.handlers);
  }

  /** Whether this call is answered with an injected InternalException (`faults.errorRate`). */
  shouldFailCall(): boolean {
    return this.faultRandom.chance(this.options.faults?.errorRate ?? 0);
  }

  handle(operation: string, input: Json, context: CallContext): Json {
    const handler = this.handlers[operation];
    if (!handler) throw new ApiError('UnknownOperationException', `Operation ${operation} is not supported by the emulator.`);
    return handler(input, context);
  }

  // ---- buses (world API) ------------------------------------------------------------------

  /**
   * CreateEventBus (also an AWS::Events::EventBus of the template): the name is 1..256 characters
   * of letters, digits, `.`, `-`, `_` and `/`, not `default` ("You can't use the name default for a
   * custom event bus"); ResourceAlreadyExistsException for a name that exists (API reference).
   */
  createEventBus(name: string): string {
    if (!NEW_BUS_NAME_PATTERN.test(name) || name === DEFAULT_EVENT_BUS) throw new ApiError('ValidationException', `Event bus name ${name} is not valid.`);
    if (this.buses.has(name)) throw new ApiError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
    this.buses.add(name);
    return this.arnOf(name);
  }

  /** DeleteEventBus: "You can't delete your account's default event bus" (API reference). */
  deleteEventBus(name: string): void {
    if (name === DEFAULT_EVENT_BUS) throw new ApiError('ValidationException', 'Cannot delete event bus default.');
    this.buses.delete(name);
  }

  hasEventBus(name: string): boolean {
    return this.buses.has(name);
  }

  eventBuses(): string[] {
    return [...this.buses];
  }

  arnOf(name: string): string {
    return eventBusArn(name, { region: this.region, accountId: this.accountId });
  }

  // ---- PutEvents --------------------------------------------------------------------------

  private putEvents(input: Json, context: CallContext): Json {
    if (input.EndpointId !== undefined) {
      throw eventsErrors.validation('EndpointId (global endpoints) is not modelled by the emulator.');
    }
    const entries = checkRequest(input.Entries);
    const total = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
    if (total >= MAX_TOTAL_ENTRY_SIZE_BYTES) throw eventsErrors.validation('Total size of the entries in the request is over the limit.');
    const results = entries.map(entry => this.putEntry(entry, context));
    return { FailedEntryCount: results.filter(r => 'ErrorCode' in r).length, Entries: results };
  }

  private putEntry(entry: Json, context: CallContext): ResultEntry {
    const stats = this.observer.stats.putEvents;
    stats.entries++;
    const fail = (code: string, message: string): ResultEntry => {
      stats.failed[code] = (stats.failed[code] ?? 0) + 1;
      return { ErrorCode: code, ErrorMessage: message };
    };
    for (const field of ['Source', 'DetailType', 'Detail']) {
      if (typeof entry[field] !== 'string' || entry[field] === '') {
        return fail('InvalidArgument', `Parameter ${field} is not valid. Reason: ${field} is a required argument.`);
      }
    }
    if ([...entry.DetailType as string].length > MAX_DETAIL_TYPE_LENGTH) {
      return fail('InvalidArgument', `Parameter DetailType is not valid. Reason: DetailType is longer than ${MAX_DETAIL_TYPE_LENGTH} characters.`);
    }
    const detail = jsonObject(entry.Detail);
    if (!detail) return fail('MalformedDetail', 'Detail is malformed.');
    const refusal = this.authorizer.authorize(context.invocationId, 'events', 'PutEvents', () => entry);
    if (refusal) {
      const { action, resource, principal, message } = refusal;
      this.observer.countDenied('events:PutEvents', { at: this.clock.now(), action, resource, principal, invocationId: context.invocationId, message });
      return fail('AccessDeniedException', message);
    }
    if ((entry.Source as string).startsWith('aws.')) return fail('NotAuthorizedForSourceException', 'Not authorized for the source.');
    const bus = this.busOf(entry.EventBusName);
    if (bus === undefined && this.options.unknownBus === 'fail') {
      return fail('ResourceNotFoundException', `Event bus ${String(entry.EventBusName)} does not exist.`);
    }
    if (this.faultRandom.chance(this.options.faults?.entryFailureRate ?? 0)) return fail('InternalFailure', 'Internal Failure');
    const id = this.random.uuid();
    stats.accepted++;
    if (bus === undefined) {
      stats.droppedUnknownBus++;
      return { EventId: id };
    }
    const at = typeof entry.Time === 'number' ? entry.Time * 1000 : this.clock.now();
    this.deliver({
      'version': '0',
      id,
      'detail-type': entry.DetailType,
      'source': entry.Source,
      'account': this.accountId,
      // RFC 3339 to the second, as EventBridge writes `time`.
      'time': new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      'region': this.region,
      'resources': Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
      detail,
    }, bus);
    return { EventId: id };
  }

  /** The name of the bus an entry's EventBusName names, or undefined when the emulator has no such bus. */
  private busOf(eventBusName: unknown): string | undefined {
    const arn = eventBusArn(eventBusName, { region: this.region, accountId: this.accountId });
    const prefix = `arn:aws:events:${this.region}:${this.accountId}:event-bus/`;
    if (!arn.startsWith(prefix)) return undefined;
    const name = arn.slice(prefix.length);
    return this.buses.has(name) ? name : undefined;
  }
}

/**
 * The request's shape (PutEvents, PutEventsRequestEntry): refused as a whole, with the constraint
 * messages AWS's request validation writes ("N validation error(s) detected: ...").
 */
function checkRequest(entries: unknown): Json[] {
  const violations: string[] = [];
  const violate = (value: string, where: string, constraint: string) => violations.push(`Value ${value} at '${where}' failed to satisfy constraint: ${constraint}`);
  if (!Array.isArray(entries)) {
    violate('null', 'entries', 'Member must not be null');
  } else if (entries.length < 1) {
    violate('\'[]\'', 'entries', 'Member must have length greater than or equal to 1');
  } else if (entries.length > MAX_ENTRIES) {
    violate(`'[${entries.length} entries]'`, 'entries', `Member must have length less than or equal to ${MAX_ENTRIES}`);
  } else {
    entries.forEach((raw, i) => {
      const where = (field: string) => `entries.${i + 1}.member.${field}`;
      const entry: Json = typeof raw === 'object' && raw !== null ? raw : {};
      const bus = entry.EventBusName;
      if (bus !== undefined && bus !== null) {
        if (typeof bus !== 'string' || bus.length < 1 || bus.length > 1600) {
          violate(`'${String(bus)}'`, where('eventBusName'), 'Member must have length between 1 and 1600');
        } else if (!EVENT_BUS_NAME_PATTERN.test(bus)) {
          violate(`'${bus}'`, where('eventBusName'), `Member must satisfy regular expression pattern: ${EVENT_BUS_NAME_PATTERN_TEXT}`);
        }
      }
      if (entry.Resources !== undefined && (!Array.isArray(entry.Resources) || entry.Resources.some((r: unknown) => typeof r !== 'string' || r.length > 2048))) {
        violate('\'[...]\'', where('resources'), 'Member must have length less than or equal to 2048');
      }
      const trace = entry.TraceHeader;
      if (trace !== undefined && (typeof trace !== 'string' || trace.length < 1 || trace.length > 500)) {
        violate(`'${String(trace)}'`, where('traceHeader'), 'Member must have length between 1 and 500');
      }
      // JSON 1.1 timestamps are epoch seconds (what the SDK sends for a Date).
      if (entry.Time !== undefined && entry.Time !== null && (typeof entry.Time !== 'number' || !Number.isFinite(entry.Time))) {
        violate(`'${String(entry.Time)}'`, where('time'), 'Member must be a timestamp in epoch seconds');
      }
    });
  }
  if (violations.length > 0) {
    const count = violations.length === 1 ? '1 validation error' : `${violations.length} validation errors`;
    throw eventsErrors.validation(`${count} detected: ${violations.join('; ')}`);
  }
  return (entries as unknown[]).map(raw => (typeof raw === 'object' && raw !== null ? raw as Json : {}));
}

/** The JSON object `text` holds, or undefined (not JSON, or JSON that is not an object). */
function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
