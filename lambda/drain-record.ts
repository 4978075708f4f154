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
  const fields = new Map<string, number>();
  for (const part of value.split(' ')) {
    // Digits only: Number('') is 0 and Number('1e3') is 1000, which would make a damaged
    // record look like a drain whose deadline passed long ago.
    const field = /^([a-z]+):(\d+)$/.exec(part);
    if (!field) return undefined;
    fields.set(field[1], Number(field[2]));
  }
  const deadline = fields.get('deadline');
  const started = fields.get('started');
  const registrations = fields.get('registrations');
  if (deadline === undefined || started === undefined || registrations === undefined || registrations < 1) return undefined;
  return { deadline: deadline * 1000, startedAt: started * 1000, registrations };
}
