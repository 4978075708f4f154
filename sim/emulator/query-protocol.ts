/**
 * The AWS Query protocol as Auto Scaling speaks it (Auto Scaling API reference, "Common
 * Parameters" / "Making API requests"): form-encoded POST parameters with lists flattened to
 * `Name.member.N`, XML answers wrapped in `<ActionResponse><ActionResult>` plus ResponseMetadata.
 */
export const AUTOSCALING_XMLNS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

export type QueryParams = Map<string, string>;

export function parseForm(body: string): QueryParams {
  return new Map(new URLSearchParams(body).entries());
}

/** `Name.member.1`, `Name.member.2`, … in index order. */
export function memberList(params: QueryParams, name: string): string[] {
  const values: string[] = [];
  for (let n = 1; params.has(`${name}.member.${n}`); n++) values.push(params.get(`${name}.member.${n}`)!);
  return values;
}

export type XmlValue = string | number | boolean | undefined | XmlValue[] | { [key: string]: XmlValue };

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Objects become nested elements; arrays become `<member>` lists (the Query protocol's list form). */
export function toXml(value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map(item => `<member>${toXml(item)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([key, v]) => `<${key}>${toXml(v)}</${key}>`)
      .join('');
  }
  return escapeXml(String(value));
}

export function responseXml(action: string, result: { [key: string]: XmlValue } | undefined, requestId: string): string {
  const resultXml = result === undefined ? '' : `<${action}Result>${toXml(result)}</${action}Result>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${AUTOSCALING_XMLNS}">${resultXml}`
    + `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

export function errorXml(type: 'Sender' | 'Receiver', code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${AUTOSCALING_XMLNS}"><Error><Type>${type}</Type>`
    + `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>`
    + `<RequestId>${requestId}</RequestId></ErrorResponse>`;
}
