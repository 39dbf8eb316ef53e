/** Small DOM helpers: the renderer is plain DOM and TypeScript. */

type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;
type Child = Node | string | null | undefined | false;

/** Creates an element: `h('button', { type: 'button', onclick: fn }, 'Save')`. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A label + control + message, wired with for/aria-describedby. */
export function field(
  id: string,
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  help?: string,
): { row: HTMLElement; message: HTMLElement } {
  control.id = id;
  const message = h('p', { class: 'field-message', id: `${id}-message`, 'aria-live': 'polite' });
  const helpText = help ? h('p', { class: 'field-help', id: `${id}-help` }, help) : null;
  control.setAttribute('aria-describedby', [helpText ? `${id}-help` : '', `${id}-message`].filter(Boolean).join(' '));
  const row = h('div', { class: 'field' }, h('label', { for: id }, label), control, helpText, message);
  return { row, message };
}
