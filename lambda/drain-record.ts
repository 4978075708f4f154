/**
 * The drain record the controller keeps on each container instance it drains, as one ECS
 * custom attribute value: `deadline:1795860000 started:1795856400 registrations:1`.
 * Attribute values allow letters, digits, colons and spaces up to 128 characters (ECS API
 * reference, Attribute), so the record stays readable in the console.
 */
export interface DrainRecordValue {
  /** When the drain is forced (epoch ms). */
  readonly deadline: number;
  /** When the drain started (epoch ms). */
  readonly startedAt: number;
  /** How many registrations of the EC2 instance were drained together. */
  readonly registrations: number;
}

export function formatDrainRecord(record: DrainRecordValue): string {
  return `deadline:${Math.floor(record.deadline / 1000)} started:${Math.floor(record.startedAt / 1000)} registrations:${record.registrations}`;
}

/** Parses a record; anything malformed yields undefined (the drain is then treated as unrecorded). */
export function parseDrainRecord(value: string | undefined): DrainRecordValue | undefined {
  if (value === undefined) return undefined;
  const fields = new Map(value.split(' ').map(part => part.split(':') as [string, string]));
  const deadline = Number(fields.get('deadline'));
  const started = Number(fields.get('started'));
  const registrations = Number(fields.get('registrations'));
  if (![deadline, started, registrations].every(n => Number.isInteger(n) && n >= 0)) return undefined;
  return { deadline: deadline * 1000, startedAt: started * 1000, registrations };
}
