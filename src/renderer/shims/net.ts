/**
 * `node:net`'s address checks for the browser bundle: the renderer validates
 * endpoint URIs with the core's own parser (src/core/endpoint.ts), whose
 * module graph imports these two functions. The URL parser does the work.
 */
export function isIPv4(text: string): boolean {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return false;
  return text.split('.').every((part) => Number(part) <= 255 && (part === '0' || !part.startsWith('0')));
}

export function isIPv6(text: string): boolean {
  if (!text.includes(':') || /[^0-9a-fA-F:.]/.test(text)) return false;
  try {
    return new URL(`http://[${text}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}
