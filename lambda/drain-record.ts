/**
 * What the controller keeps on a container instance, as the value of one ECS custom attribute
 * (ATTRIBUTE.DRAIN), so that any invocation can pick a drain up without a database, and the one
 * place that writes and reads it:
 *
 * - a drain record, `deadline:1795860000 started:1795856400 hook:1795856390 waits:2`: when the
 *   drain is forced, when it started, (when known) a moment at or before which the lifecycle
 *   hook's heartbeat timeout last started counting (the action's start or the last heartbeat),
 *   and (once diagnosed) the causes it was last published waiting for, as bits (decide/,
 *   diagnose.ts): a later diagnosis publishes an event only when they change;
 * - a parked marker, `parked:1795859000`: the instance went back to its group's warm pool with
 *   this registration kept (see decide/), so the controller sets it ACTIVE again when the
 *   instance returns to service;
 * - a reactivation marker, `reactivated:1795859900`: the registration was set ACTIVE again then.
 *   A lifecycle event older than that (a late or duplicated copy of the one that sent the instance
 *   to the pool) describes a wait that is over; the reconcile pass removes the marker once no such
 *   copy can still arrive (see decide/, staleMarker).
 *
 * Attribute values allow letters, digits, colons and spaces, up to 128 characters (ECS API
 * reference, Attribute), so both stay readable in the console.
 */
export interface DrainRecordValue {
  /** When the drain is forced (epoch ms). */
  readonly deadline: number;
  /** When the drain started (epoch ms). */
  readonly startedAt: number;
  /**
   * A moment (epoch ms) at or before the last start of the hook's heartbeat timeout; undefined
   * when not known (the hook may then time out any time: a heartbeat is due at once).
   */
  readonly hookClockFrom?: number;
  /** The wait causes last published for this drain (decide/, causesMask); undefined before its first diagnosis. */
  readonly waits?: number;
}

export type AttributeValue =
  | { readonly kind: 'drain'; readonly record: DrainRecordValue }
  | { readonly kind: 'parked'; readonly parkedAt: number }
  | { readonly kind: 'reactivated'; readonly reactivatedAt: number };

/** The attribute as a registration's fields: at most one of them is set. */
export interface Marker {
  readonly record?: DrainRecordValue;
  /** When the registration was parked for the warm pool (epoch ms). */
  readonly parkedAt?: number;
  /** When it was set ACTIVE again after the warm pool (epoch ms). */
  readonly reactivatedAt?: number;
}

/** The marker an attribute value carries; none for no value or a malformed one. */
export function markerOf(value: string | undefined): Marker {
  const parsed = parseAttributeValue(value);
  switch (parsed?.kind) {
    case 'drain': return { record: parsed.record };
    case 'parked': return { parkedAt: parsed.parkedAt };
    case 'reactivated': return { reactivatedAt: parsed.reactivatedAt };
    default: return {};
  }
}

export function formatDrainRecord(record: DrainRecordValue): string {
  const hook = record.hookClockFrom === undefined ? '' : ` hook:${seconds(record.hookClockFrom)}`;
  const waits = record.waits === undefined ? '' : ` waits:${record.waits}`;
  return `deadline:${seconds(record.deadline)} started:${seconds(record.startedAt)}${hook}${waits}`;
}

export function formatParked(parkedAt: number): string {
  return `parked:${seconds(parkedAt)}`;
}

export function formatReactivated(reactivatedAt: number): string {
  return `reactivated:${seconds(reactivatedAt)}`;
}

/**
 * Parses the attribute value; anything malformed yields undefined (the drain is then treated as
 * unrecorded, never as one whose deadline passed). Records of earlier versions, which carried a
 * `registrations:` count, are read without it.
 */
export function parseAttributeValue(value: string | undefined): AttributeValue | undefined {
  if (value === undefined) return undefined;
  const fields = new Map<string, number>();
  let waits: number | undefined;
  for (const part of value.split(' ')) {
    // Digits only: Number('') is 0 and Number('1e3') is 1000, which would make a damaged
    // record look like a drain whose deadline passed long ago.
    const field = /^([a-z]+):(\d+)$/.exec(part);
    if (!field || fields.has(field[1])) return undefined;
    // A count, not a time.
    if (field[1] === 'waits') waits = Number(field[2]);
    fields.set(field[1], Number(field[2]) * 1000);
  }
  const parked = fields.get('parked');
  if (parked !== undefined) return fields.size === 1 ? { kind: 'parked', parkedAt: parked } : undefined;
  const reactivated = fields.get('reactivated');
  if (reactivated !== undefined) return fields.size === 1 ? { kind: 'reactivated', reactivatedAt: reactivated } : undefined;
  const deadline = fields.get('deadline');
  const startedAt = fields.get('started');
  if (deadline === undefined || startedAt === undefined) return undefined;
  if ([...fields.keys()].some(name => !['deadline', 'started', 'hook', 'waits', 'registrations'].includes(name))) return undefined;
  const hookClockFrom = fields.get('hook');
  return {
    kind: 'drain',
    record: { deadline, startedAt, ...hookClockFrom === undefined ? {} : { hookClockFrom }, ...waits === undefined ? {} : { waits } },
  };
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}
