// Small DOM helpers. Every piece of text goes in through textContent (never
// innerHTML): whatever the backend or the agent sends is shown as text.

import { formatBytes } from './pkg/index.js';

/** `$('#id')`, throwing early when the page and the script disagree. */
export function $(selector, root = document) {
  const node = root.querySelector(selector);
  if (!node) throw new Error(`missing element ${selector}`);
  return node;
}

/**
 * Creates an element. `props`: `class`, `text` (textContent), `attrs`
 * (setAttribute, never `style` or `on*`), `dataset`, `hidden`.
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  if (props.hidden) node.hidden = true;
  if (props.attrs) {
    for (const [k, v] of Object.entries(props.attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'style' || k.toLowerCase().startsWith('on')) continue;
      node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  if (props.dataset) Object.assign(node.dataset, props.dataset);
  for (const c of children) if (c) node.append(c);
  return node;
}

/** An inline SVG icon from a path `d` (static markup, built with DOM calls). */
export function icon(d, cls = 'icon') {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', cls);
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

export const ICONS = {
  video: 'M4 6h11a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1zm12 4l5-3v10l-5-3',
  audio: 'M9 18V6l11-2v12M9 18a3 3 0 1 1-6 0 3 3 0 0 1 6 0zm11-2a3 3 0 1 1-6 0 3 3 0 0 1 6 0z',
  text: 'M5 6V4h14v2M12 4v16m-3 0h6',
  other: 'M4 12h16M12 4v16',
  image: 'M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4M15.5 9.5a1 1 0 1 0 0-.01',
  close: 'M6 6l12 12M18 6L6 18',
  clip: 'M20 11.5l-8.1 8.1a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  alert: 'M12 8v5m0 3.5v.01M10.3 3.9L2.4 18a2 2 0 0 0 1.7 3h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z',
};

/**
 * A byte count in the client's units, binary (1 MB = 1024 × 1024 bytes, the
 * units of the 200 MB limit): `512 bytes`, `820 KB`, `1.5 MB`, `200 MB`. The
 * one rule is the package's `formatBytes` (the same as the CLI's and the
 * client's own messages); `''` for anything that is not a size (NaN,
 * negative). Before the wasm is instantiated it falls back to the exact count.
 */
export function humanBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  try {
    return formatBytes(n);
  } catch {
    return `${Math.floor(n)} bytes`;
  }
}

/** `0:07`, `1:10`, `12:03`. */
export function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** `3s`, `10.5s`, `1:20`. */
export function seconds(ms) {
  const s = ms / 1000;
  if (s >= 60) return clock(ms);
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}

/**
 * Removes anything token-like before text reaches the screen. The client
 * already redacts its errors; this is a second belt for the page.
 */
export function redact(text, secrets = []) {
  let out = String(text ?? '');
  for (const s of secrets) {
    if (s && s.length >= 6) out = out.split(s).join('•••');
  }
  return out.replace(/\b(nmv_[A-Za-z0-9]+_)[A-Za-z0-9_-]{6,}/g, '$1•••').replace(/(Bearer\s+)\S+/gi, '$1•••');
}
