/**
 * DOM helpers that only ever create text nodes for data: no innerHTML anywhere in the webviews. Strings
 * from files (labels, token text, paths) also get their control and bidirectional-override characters
 * replaced by visible escapes, so a label cannot reorder the text around it or hide characters.
 */
import './elements';

export type Child = Node | string | number | null | undefined | false;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** Replaces control, zero-width and bidi characters with ⟨U+XXXX⟩ (newlines and tabs are kept). */
export function visible(s: string): string {
  return s.replace(INVISIBLE, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

/** Token text for inline display: whitespace made visible as well. */
export function tokenText(s: string): string {
  return visible(s).replace(/\n/g, '↵').replace(/\t/g, '⇥');
}

/** Creates an element with a class list and children; strings become (escaped) text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(visible(String(c))) : c);
  }
}

/** A codicon (font icon) span; decorative unless given a label. */
export function icon(name: string, label?: string): HTMLSpanElement {
  const s = h('span', `codicon codicon-${name}`);
  if (label) { s.setAttribute('role', 'img'); s.setAttribute('aria-label', label); } else s.setAttribute('aria-hidden', 'true');
  return s;
}

/** A vscode-elements button (secondary unless cls has 'primary'); the icon is a codicon span. */
export function button(label: string, iconName: string | undefined, onClick: () => void, cls = 'btn'): HTMLElement & { disabled: boolean } {
  const b = document.createElement('vscode-button');
  b.className = cls;
  b.secondary = !cls.split(' ').includes('primary');
  append(b, iconName ? icon(iconName) : null, label);
  b.addEventListener('click', () => { if (!b.disabled) onClick(); });
  return b;
}

/** A link-looking button that opens a latent's feature page. */
export function latentLink(latent: number, onOpen: (latent: number) => void, text?: string): HTMLButtonElement {
  const b = h('button', 'link latent-link', text ?? `#${latent}`);
  b.type = 'button';
  b.title = `Open the feature page of latent ${latent}`;
  b.addEventListener('click', () => onOpen(latent));
  return b;
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', 'card', h('h2', '', title), ...children);
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A definition list of label/value pairs. */
export function facts(pairs: [string, Child][]): HTMLDListElement {
  const dl = h('dl', 'facts');
  for (const [k, v] of pairs) dl.append(h('dt', '', k), h('dd', '', v));
  return dl;
}

/** A small "provisional"/"diagnostics" provenance tag. */
export function provenance(source: string | undefined): HTMLSpanElement | null {
  if (!source) return null;
  const s = h('span', `tag tag-${source}`, source);
  s.title = source === 'provisional'
    ? 'Estimated by the panels from one pass over the sample; the diagnostics module computes the full version'
    : 'Computed by the diagnostics module';
  return s;
}
