// Small DOM and formatting helpers for the dashboard. Text always goes in as text nodes,
// never as HTML, so nothing from a feed can inject markup.

/**
 * Creates an element: `el('td', { class: 'x', colspan: 2 }, 'text', child)`. Attributes
 * that are null, undefined or false are left out.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';

/** Creates an SVG element, as `el` does. */
export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

function setAttributes(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
}

/** A table's `<thead>`: one row of column headings. */
export function columnHeads(headings) {
  return el(
    'thead',
    {},
    el(
      'tr',
      {},
      headings.map((h) => el('th', { scope: 'col' }, h)),
    ),
  );
}

/** Text only screen readers read, e.g. "(differs between clusters)". */
export function hidden(text) {
  return el('span', { class: 'visually-hidden' }, text);
}

const LONG = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const SHORT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const TIME = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });

/** An ISO day (`2007-08-17`) as "17 August 2007"; `short` gives "17 Aug 2007". */
export function day(iso, short = false) {
  if (!iso) return '';
  return (short ? SHORT : LONG).format(new Date(`${iso}T00:00:00Z`));
}

/** An ISO instant as a local date and time. */
export function instant(iso) {
  return iso ? TIME.format(new Date(iso)) : '';
}

/** `<time datetime=…>` for an ISO day. */
export function time(iso, short = false) {
  return iso ? el('time', { datetime: iso }, day(iso, short)) : null;
}

/** Words for the programme's common statuses. */
export const STATUS_WORDS = {
  PLANNED: 'Planned',
  LIVE: 'Live',
  POSTPONED: 'Postponed',
  CANCELLED: 'Cancelled',
  SWITCHED_OFF: 'Switched off',
  ACTIVE: 'Active',
  SUSPENDED: 'Suspended',
  COMPLETE: 'Complete',
};

/** A status as a badge: its word, with a colour that only repeats what the word says. */
export function badge(status) {
  return el('span', { class: `badge badge-${status.toLowerCase().replace('_', '-')}` }, STATUS_WORDS[status] ?? status);
}

/**
 * Replaces `parent`'s children with `children` by changing only what differs: a node of the
 * same kind in the same place is kept (its attributes and text brought up to date), so a
 * section redrawn from a new answer changes only the cells whose values changed, and keeps
 * the reader's place, focus and selection everywhere else.
 */
export function patchChildren(parent, ...children) {
  const wanted = [];
  append({ append: (child) => wanted.push(typeof child === 'string' ? document.createTextNode(child) : child) }, children);
  wanted.forEach((next, index) => {
    const current = parent.childNodes[index];
    if (!current) parent.append(next);
    else if (!sameKind(current, next)) current.replaceWith(next);
    else if (next.nodeType === Node.TEXT_NODE) {
      if (current.data !== next.data) current.data = next.data;
    } else {
      patchAttributes(current, next);
      patchChildren(current, ...next.childNodes);
    }
  });
  while (parent.childNodes.length > wanted.length) parent.lastChild.remove();
}

function sameKind(a, b) {
  return a.nodeType === b.nodeType && a.nodeName === b.nodeName && (a.nodeType === Node.TEXT_NODE || a.nodeType === Node.ELEMENT_NODE);
}

function patchAttributes(current, next) {
  for (const { name } of [...current.attributes]) if (!next.hasAttribute(name)) current.removeAttribute(name);
  for (const { name, value } of [...next.attributes]) if (current.getAttribute(name) !== value) current.setAttribute(name, value);
}
