import { ApiError } from './errors';

/** Opaque pagination tokens: base64 of the offset (and issue time, so tokens look unique). */
export function encodePageToken(offset: number, issuedAt: number): string {
  return Buffer.from(JSON.stringify({ o: offset, t: issuedAt })).toString('base64');
}

export function decodePageToken(token: unknown, invalid: () => ApiError): number {
  try {
    const parsed = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8'));
    if (Number.isInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // falls through to the error below
  }
  throw invalid();
}
