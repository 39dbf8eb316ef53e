/**
 * A message shown as a sentence of its own: the parsers' and main's messages
 * start in lower case, so that they read inside another sentence too
 * ("the endpoint: its port is not a number").
 */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
