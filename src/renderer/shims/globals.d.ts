// The core's endpoint module mentions Buffer in a function the renderer never
// calls (authorizationHeader); this keeps the renderer's typecheck free of
// Node's types, so Node APIs stay out of reach of the page's code.
declare const Buffer: {
  from(text: string, encoding: string): { toString(encoding: string): string };
};
