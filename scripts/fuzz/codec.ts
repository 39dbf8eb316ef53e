/**
 * Fuzz inputs as JSON, for the regression cases kept under test/fuzz/cases
 * and for the copy of the current input a worker keeps where its supervisor
 * can read it after a hang or a crash. Bytes (Buffer, Uint8Array) become
 * `{"$bytes": BASE64}`; `undefined` in an array stays `{"$undefined": true}`
 * (a header map may hold it); everything else is plain JSON.
 */

export function encodeInput(input: unknown): string {
  return JSON.stringify(input, (_key, value: unknown) => {
    if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
      return { $bytes: Buffer.from((value as { data: number[] }).data).toString('base64') };
    }
    if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
    if (value === undefined) return { $undefined: true };
    return value;
  });
}

export function decodeInput(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      if (typeof record.$bytes === 'string' && Object.keys(record).length === 1) return Buffer.from(record.$bytes, 'base64');
      if (record.$undefined === true && Object.keys(record).length === 1) return undefined;
    }
    return value;
  });
}
