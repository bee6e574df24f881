// Picked files: validation before anything is sent (type by extension and
// MIME, 200 MB), thumbnails from object URLs, and a progress bar per file.
// The client checks again (by magic bytes) before uploading.

import { el, icon, ICONS, humanBytes } from './ui.js';

export const MAX_BYTES = 200 * 1024 * 1024;
const KINDS = {
  image: ['jpg', 'jpeg', 'png', 'gif', 'webp'],
  video: ['mp4', 'mov', 'avi', 'webm', 'mkv'],
  audio: ['mp3', 'wav', 'm4a', 'aac'],
};
const ACCEPTED = Object.values(KINDS).flat();

function extension(name) {
  const i = name.lastIndexOf('.');
  return i >= 0 ? name.slice(i + 1).toLowerCase() : '';
}

/** `{ ok, kind, reason }` for a File. */
export function validate(file) {
  const ext = extension(file.name || '');
  const kind = Object.keys(KINDS).find((k) => KINDS[k].includes(ext));
  if (!kind) {
    return {
      ok: false,
      reason: `Not a supported file type${ext ? ` (.${ext})` : ''}. Use a photo (JPG, PNG, GIF, WebP), a video (MP4, MOV, WebM, MKV, AVI) or audio (MP3, WAV, M4A, AAC).`,
    };
  }
  const mimeKind = (file.type || '').split('/')[0];
  if (mimeKind && mimeKind !== kind && !(kind === 'video' && mimeKind === 'application')) {
    return { ok: false, reason: `This file says it is .${ext} but looks like ${file.type}. Pick the original file.` };
  }
  if (file.size === 0) return { ok: false, reason: 'This file is empty.' };
  if (file.size > MAX_BYTES) {
    // Just over the limit rounds to the limit itself ("200 MB"): then the
    // exact byte counts say why it is refused.
    const size = humanBytes(file.size);
    const limit = humanBytes(MAX_BYTES);
    const exact = size === limit ? ` (${file.size.toLocaleString('en')} bytes, over ${MAX_BYTES.toLocaleString('en')})` : '';
    return {
      ok: false,
      reason: `Too large (${size}${exact}): the limit is ${limit} per file. Compress or trim it first.`,
    };
  }
  return { ok: true, kind };
}

let nextId = 1;

/**
 * The list of picked files. Each entry: `{ id, file, kind, state, node, … }`
 * with state `ready` (attached to the next message), `uploading`,
 * `uploaded`, `rejected` or `failed`.
 */
export class FileList {
  constructor(listEl, { onChange }) {
    this.listEl = listEl;
    this.items = [];
    this.onChange = onChange;
  }

  /** Adds files; returns how many were accepted. */
  add(files) {
    let accepted = 0;
    for (const file of files) {
      const v = validate(file);
      const item = { id: nextId++, file, kind: v.kind, state: v.ok ? 'ready' : 'rejected', reason: v.reason, url: null };
      if (v.ok) {
        accepted += 1;
        item.url = URL.createObjectURL(file);
      }
      item.node = this.render(item);
      this.items.push(item);
      this.listEl.append(item.node);
    }
    this.onChange();
    return accepted;
  }

  /** Files waiting to go with the next message. */
  ready() {
    return this.items.filter((i) => i.state === 'ready' || i.state === 'failed');
  }

  remove(item) {
    if (item.url) URL.revokeObjectURL(item.url);
    item.node.remove();
    this.items = this.items.filter((i) => i !== item);
    this.onChange();
  }

  render(item) {
    const thumb = el('div', { class: `thumb thumb-${item.kind || 'bad'}` });
    if (item.kind === 'image') {
      thumb.append(el('img', { attrs: { src: item.url, alt: '', decoding: 'async' } }));
    } else if (item.kind === 'video') {
      const v = el('video', { attrs: { src: item.url, muted: true, preload: 'metadata', playsinline: true, 'aria-hidden': 'true', tabindex: '-1' } });
      v.muted = true;
      thumb.append(v);
    } else {
      thumb.append(icon(item.kind === 'audio' ? ICONS.audio : ICONS.alert));
    }
    const name = el('span', { class: 'file-name', text: item.file.name || 'file', attrs: { title: item.file.name } });
    const meta = el('span', { class: 'file-meta', text: humanBytes(item.file.size) });
    const status = el('span', { class: 'file-status', attrs: { 'aria-live': 'polite' } });
    const bar = el('progress', { class: 'bar bar-small', attrs: { max: '100', value: '0', 'aria-label': `Upload progress of ${item.file.name}` } });
    const remove = el('button', { class: 'btn btn-ghost btn-icon btn-small', attrs: { type: 'button', 'aria-label': `Remove ${item.file.name}` } }, [icon(ICONS.close)]);
    remove.addEventListener('click', () => this.remove(item));
    const info = el('div', { class: 'file-info' }, [el('div', { class: 'file-line' }, [name, meta]), status, bar]);
    const li = el('li', { class: 'file', dataset: { state: item.state } }, [thumb, info, remove]);
    item.parts = { status, bar, remove };
    this.setState(item, item.state, item.reason, li);
    return li;
  }

  setState(item, state, reason, node = item.node) {
    item.state = state;
    if (reason !== undefined) item.reason = reason;
    node.dataset.state = state;
    const { status, bar, remove } = item.parts;
    const text = {
      ready: 'Ready · goes with your next message',
      uploading: 'Uploading…',
      uploaded: 'Uploaded',
      rejected: item.reason,
      failed: `Upload failed${item.reason ? `: ${item.reason}` : ''}`,
    }[state];
    status.textContent = text || '';
    bar.hidden = !(state === 'uploading' || state === 'uploaded');
    if (state === 'uploaded') bar.value = 100;
    if (state === 'ready' || state === 'failed') bar.value = 0;
    remove.hidden = state === 'uploading';
  }

  /** Marks `items` as uploading and returns a progress callback for the batch. */
  startUpload(items) {
    for (const it of items) this.setState(it, 'uploading');
    // One multipart request carries the files in order: map the bytes sent
    // onto each file's own bar.
    return (sent, total) => {
      let offset = 0;
      const sum = items.reduce((n, it) => n + it.file.size, 0) || 1;
      const scale = total > 0 ? sum / total : 1;
      const s = sent * scale;
      for (const it of items) {
        const size = it.file.size;
        const done = Math.min(Math.max(s - offset, 0), size);
        const pct = size ? Math.round((100 * done) / size) : 100;
        it.parts.bar.value = pct;
        it.parts.status.textContent = pct >= 100 ? 'Processing…' : `Uploading… ${pct}%`;
        offset += size;
      }
    };
  }

  finishUpload(items, ok, reason) {
    for (const it of items) this.setState(it, ok ? 'uploaded' : 'failed', ok ? undefined : reason);
    this.onChange();
  }
}
