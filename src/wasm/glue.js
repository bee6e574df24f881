// JavaScript glue for the wasm shell: the few things that are clearer in JS
// than through wasm-bindgen (error subclasses, Symbol.asyncIterator, timers
// that honour AbortSignal, upload progress). No globals beyond the standard
// ones that exist in pages, workers, service workers and Node 18+.

/** Base class of every error the client throws. */
export class NemoError extends Error {
  constructor(kind, message, code, status, recovery) {
    super(message);
    this.name = 'NemoError';
    /** Machine-readable kind, e.g. "out_of_credits". */
    this.kind = kind;
    /** API code (1001, 2001, …) or undefined. */
    this.code = code === undefined || code === null ? undefined : code;
    /** HTTP status or undefined. */
    this.status = status === undefined || status === null ? undefined : status;
    /** What to do: { action, description, url?, waitMs?, accepted?, limitBytes? }. */
    this.recovery = recovery;
  }
}

const KINDS = {
  token_expired: 'TokenExpiredError',
  session_not_found: 'SessionNotFoundError',
  out_of_credits: 'OutOfCreditsError',
  unsupported_file: 'UnsupportedFileError',
  file_too_large: 'FileTooLargeError',
  export_blocked: 'ExportBlockedError',
  rate_limited: 'RateLimitedError',
  network: 'NetworkError',
  timeout: 'TimeoutError',
  stream_stalled: 'StreamStalledError',
  aborted: 'AbortedError',
  protocol: 'ProtocolError',
  invalid_input: 'InvalidInputError',
  render_failed: 'RenderFailedError',
};

/** One subclass per kind, so apps can `instanceof OutOfCreditsError`. */
export const errorClasses = { NemoError };
for (const [kind, name] of Object.entries(KINDS)) {
  // A named class per kind without eval (CSP forbids it).
  const cls = class extends NemoError {
    constructor(message, code, status, recovery) {
      super(kind, message, code, status, recovery);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  errorClasses[name] = cls;
}

export function makeError(kind, message, code, status, recovery) {
  const cls = errorClasses[KINDS[kind]];
  return cls ? new cls(message, code, status, recovery) : new NemoError(kind, message, code, status, recovery);
}

/** Aborting `signal` aborts `controller` (at once when it already is). */
export function linkAbort(signal, controller) {
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', () => controller.abort(), { once: true });
}

/** True when `e` is an abort (DOMException AbortError or our AbortedError). */
export function isAbort(e) {
  return !!e && (e.name === 'AbortError' || e.kind === 'aborted');
}

/** Resolves after `ms`, or rejects with an AbortError when `signal` fires. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(abortError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError() {
  return makeError('aborted', 'The operation was cancelled.', undefined, undefined, {
    action: 'none',
    description: '',
  });
}

/** Makes `obj` usable with `for await` (its own `next`/`return` do the work). */
export function asyncIterable(obj) {
  obj[Symbol.asyncIterator] = function () {
    return this;
  };
  return obj;
}

/** Whether Web Crypto's `getRandomValues` exists (for the client id). */
export function hasWebCrypto() {
  const c = globalThis.crypto;
  return !!c && typeof c.getRandomValues === 'function';
}

/**
 * The default key-value storage for the client id: chrome.storage.local in
 * extensions, localStorage in pages, memory elsewhere (Node wires a file).
 */
export function defaultStorage() {
  const chromeStorage = globalThis.chrome && globalThis.chrome.storage && globalThis.chrome.storage.local;
  if (chromeStorage) {
    return {
      get: async (key) => (await chromeStorage.get(key))[key] ?? null,
      set: async (key, value) => chromeStorage.set({ [key]: value }),
    };
  }
  try {
    const ls = globalThis.localStorage;
    if (ls) {
      const probe = '__nemo_probe__';
      ls.setItem(probe, '1');
      ls.removeItem(probe);
      return {
        get: async (key) => ls.getItem(key),
        set: async (key, value) => ls.setItem(key, value),
      };
    }
  } catch {
    // Storage can throw in sandboxed iframes or with cookies blocked.
  }
  const memory = new Map();
  return {
    get: async (key) => (memory.has(key) ? memory.get(key) : null),
    set: async (key, value) => void memory.set(key, value),
  };
}

/** Reads a storage entry through the integrator's (possibly sync) storage. */
export async function storageGet(storage, key) {
  const v = await storage.get(key);
  return typeof v === 'string' ? v : null;
}

export async function storageSet(storage, key, value) {
  await storage.set(key, value);
}

/** Wraps a Uint8Array or Blob into a Blob without copying it through wasm. */
export function toBlob(data, type) {
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data;
  return new Blob([data], { type: type || 'application/octet-stream' });
}

/**
 * The first `n` bytes of each upload input, for the magic-byte checks, in
 * one promise: a Uint8Array for a Blob or byte array (the error instead when
 * a Blob cannot be read), null for a URL. Stops at the first input that is
 * none of those (the checks stop there too).
 */
export function blobHeads(inputs, n) {
  const head = async (blob) => new Uint8Array(await blob.slice(0, n).arrayBuffer());
  const heads = [];
  for (const v of inputs) {
    if (typeof v === 'string') heads.push(null);
    else if (v instanceof Uint8Array) heads.push(v.subarray(0, n));
    else if (v && typeof v === 'object' && typeof v.size === 'number' && typeof v.slice === 'function') {
      heads.push(head(v).catch((e) => e));
    } else break;
  }
  return Promise.all(heads);
}

/**
 * POSTs files as multipart (one `files` field each; `files` is
 * [[blob, filename], …]) with upload progress where the platform allows it:
 * - XMLHttpRequest (pages, dedicated workers): real `upload.onprogress`;
 * - the Node entry's hook (node:http): bytes the socket has taken;
 * - Node without the hook: the multipart body is streamed with
 *   `duplex: "half"` and the bytes are counted as fetch pulls them;
 * - elsewhere (extension service workers have neither): a plain fetch, with
 *   progress reported once at the start and once at the end.
 * The same progress drives the stall limit (`stallMs`, see UploadWatch);
 * the reply gets `replyMs` once the body is sent (0: no limit for either).
 * Resolves to { status, text }.
 */
export async function postForm(url, headers, files, total, signal, onProgress, stallMs, replyMs) {
  const watch = new UploadWatch(signal, stallMs, replyMs);
  const progress = (sent) => {
    watch.progress(sent);
    if (onProgress) {
      try {
        onProgress(Math.min(sent, total), total);
      } catch {
        // A throwing progress callback must not break the upload.
      }
    }
  };
  try {
    const reply = await sendForm(url, headers, files, total, watch, progress);
    watch.done();
    return reply;
  } catch (e) {
    throw watch.error(e);
  }
}

/** postForm's transports: each stops on `watch.signal` and reports `progress(bytes)` and the body's end. */
async function sendForm(url, headers, files, total, watch, progress) {
  const signal = watch.signal;
  const sent = () => watch.sent();
  // A platform transport installed by the package's Node entry (node:http
  // with backpressure: Node's fetch keeps a streamed request body in memory).
  const hook = globalThis[Symbol.for('nemo-video.postForm')];
  if (typeof hook === 'function') return hook(url, headers, files, total, signal, progress, sent);
  const form = new FormData();
  for (const [blob, filename] of files) form.append('files', blob, filename);
  if (typeof XMLHttpRequest === 'function') {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortError());
      const xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => progress(e.loaded);
      // The whole body is sent: from here on only the reply is awaited.
      xhr.upload.onload = sent;
      xhr.onload = () => {
        progress(total);
        resolve({ status: xhr.status, text: xhr.responseText });
      };
      xhr.onerror = () => reject(new TypeError('network error during upload'));
      xhr.onabort = () => reject(abortError());
      // The watch's signal lives as long as this call: nothing to remove.
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
      progress(0);
      xhr.send(form);
    });
  }
  const isNode = typeof process !== 'undefined' && process.versions && process.versions.node;
  if (isNode && typeof TransformStream === 'function') {
    // Response serialises FormData to a multipart stream lazily: Blob parts
    // (including fs.openAsBlob files) are read as the body is pulled. fetch
    // pulls as it sends, so the count stops when the connection does (what
    // the stall limit watches; tests/wasm_client_faults.rs shows it).
    const encoded = new Response(form);
    const contentType = encoded.headers.get('content-type');
    let count = 0;
    const counter = new TransformStream({
      transform(chunk, controller) {
        count += chunk.byteLength;
        progress(count);
        controller.enqueue(chunk);
      },
      flush: sent,
    });
    progress(0);
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': contentType },
      body: encoded.body.pipeThrough(counter),
      duplex: 'half',
      signal,
    });
    const text = await res.text();
    progress(total);
    return { status: res.status, text };
  }
  // No progress events here, so a stall cannot be told from a slow link:
  // only reading the reply, once its headers came, is bound.
  watch.blind();
  progress(0);
  const res = await fetch(url, { method: 'POST', headers, body: form, signal });
  sent();
  const text = await res.text();
  progress(total);
  return { status: res.status, text };
}

/**
 * An AbortController that also aborts, with the same reason, when `outer`
 * (the caller's signal, if any) does. `unlink()` removes the listener, so a
 * long-lived caller signal does not collect one per call.
 */
class LinkedController extends AbortController {
  constructor(outer) {
    super();
    this.outer = outer;
    if (outer) {
      if (outer.aborted) this.abort(outer.reason);
      else outer.addEventListener('abort', this);
    }
  }

  /** The caller's signal fired. */
  handleEvent() {
    this.abort(this.outer.reason);
  }

  unlink() {
    if (this.outer) this.outer.removeEventListener('abort', this);
  }
}

// ---- The upload limits (timing.uploadStallMs, then requestTimeoutMs) -----
//
// While the body is being sent, the upload fails when the transport took no
// bytes for `stallMs` (a slow link that keeps moving is fine); once it is all
// sent, the reply must come within `replyMs`. Either way the transport is
// aborted (which frees the connection) and the call rejects with a
// `TimeoutError` carrying `uploadStallMs` or `uploadReplyMs` (wasm turns it
// into the typed `timeout` error that names the limit). Progress only stores
// a time: one timer runs per upload, re-armed lazily for the rest of the
// limit when it fires after progress, so a fast upload's thousands of
// progress events cost no timer churn. The caller's signal is linked by
// LinkedController; the timer and listener go when the call settles.

/** A monotonic clock (ms) where there is one; every platform we run on has. */
const clock = () => (globalThis.performance ? performance.now() : Date.now());

class UploadWatch extends LinkedController {
  constructor(outer, stallMs, replyMs) {
    super(outer);
    this.stallMs = limited(stallMs) ? stallMs : 0;
    this.replyMs = limited(replyMs) ? replyMs : 0;
    /** Bytes taken so far (-1: none reported), and when they last grew. */
    this.bytes = -1;
    this.last = clock();
    this.sending = true;
    this.timer = 0;
    /** The TimeoutError once a limit ran out. */
    this.fired = null;
    if (this.stallMs && !this.signal.aborted) this.arm(this.stallMs);
  }

  /** The caller's signal fired: stop the timer, then the upload with its reason. */
  handleEvent() {
    this.stop();
    super.handleEvent();
  }

  /** The transport has taken `bytes` so far. */
  progress(bytes) {
    if (bytes > this.bytes) {
      this.bytes = bytes;
      this.last = clock();
    }
  }

  /** The transport reports no progress: the stall limit cannot apply. */
  blind() {
    this.stallMs = 0;
    this.stop();
  }

  /** The last byte is sent: from now on the reply's limit applies. */
  sent() {
    if (!this.sending || this.signal.aborted) return;
    this.sending = false;
    this.stop();
    if (this.replyMs) this.arm(this.replyMs);
  }

  arm(ms) {
    this.timer = setTimeout(uploadTick, ms, this);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = 0;
  }

  tick() {
    this.timer = 0;
    if (this.sending) {
      const idle = clock() - this.last;
      // Progress came since the timer was set: wait for the rest.
      if (idle < this.stallMs) return this.arm(Math.max(1, Math.ceil(this.stallMs - idle)));
    }
    const e = new Error(this.sending ? `no upload progress for ${this.stallMs} ms` : `no reply within ${this.replyMs} ms`);
    e.name = 'TimeoutError';
    if (this.sending) e.uploadStallMs = this.stallMs;
    else e.uploadReplyMs = this.replyMs;
    this.fired = e;
    this.abort();
  }

  /** The call settled: clear the timer and the listener. */
  done() {
    this.stop();
    this.unlink();
  }

  /** What a failed upload rejects with: the limit's error when one ran out first. */
  error(e) {
    this.done();
    return this.fired || e;
  }
}

function uploadTick(watch) {
  watch.tick();
}

/**
 * `fetch(url, init)` (with `signal` when given) for the agent stream:
 * resolves to `{ stream }` (the Response, its body unread) for a 2xx reply
 * that is not JSON, else to `{ status, text }` (an error, or an envelope
 * where a stream was expected). No time limit here: the turn bounds the
 * wait for the headers, and the body has its own limits.
 */
export async function fetchStream(url, init, signal) {
  const res = await fetch(url, signal ? { ...init, signal } : init);
  const type = res.headers.get('content-type');
  if (res.status >= 200 && res.status < 300 && !(type && type.includes('json'))) return { stream: res };
  return { status: res.status, text: await res.text() };
}

// ---- The per-request time limit (timing.requestTimeoutMs) ----------------
//
// A small-reply exchange (headers and body) gets `ms` milliseconds; then its
// fetch is aborted, which frees the connection, and the call fails with a
// `TimeoutError` carrying `requestTimeoutMs` (wasm turns it into the typed
// `timeout` error that names the limit). The caller's signal is linked by
// LinkedController (Node 18 has no `AbortSignal.any`) and keeps its meaning: it aborts
// the fetch with its own reason, so it still gives `aborted`. The timer and
// the listener are removed as soon as the call settles, so a long-lived
// signal collects nothing.

/** setTimeout fires at once beyond 2^31-1 ms: such a limit means none. */
const MAX_TIMER_MS = 2147483647;

/** Whether `ms` is a time limit (0, NaN, Infinity or too large: none). */
function limited(ms) {
  return ms > 0 && ms <= MAX_TIMER_MS;
}

/**
 * The controller of one limited exchange: aborts after `ms`, or when the
 * caller's `outer` signal does. One object per call (it is the controller,
 * and the abort listener through `handleEvent`) plus one timer.
 */
class Deadline extends LinkedController {
  constructor(outer, ms) {
    super(outer);
    this.ms = ms;
    this.timer = setTimeout(expire, ms, this);
  }

  /** The call settled: clear the timer and the listener. */
  done() {
    clearTimeout(this.timer);
    this.unlink();
  }

  /** What a failed call rejects with: the limit's error when it fired (and the caller's signal did not). */
  error(e) {
    this.done();
    return this.signal.aborted && !(this.outer && this.outer.aborted) ? timedOut(this.ms) : e;
  }
}

function expire(deadline) {
  deadline.abort();
}

/** The rejection of an exchange that ran out of time (see `error_from_js`). */
function timedOut(ms) {
  const e = new Error(`no answer within ${ms} ms`);
  e.name = 'TimeoutError';
  e.requestTimeoutMs = ms;
  return e;
}

/**
 * One exchange with a small reply, in one promise: `fetch` then the body as
 * text, within `ms` (0: no limit). Resolves to `{ status, text }`. `init`
 * is not modified (the client reuses it); `signal`, when given, covers the
 * body too.
 */
export async function fetchText(url, init, signal, ms) {
  const d = limited(ms) ? new Deadline(signal, ms) : null;
  const s = d ? d.signal : signal;
  try {
    const res = await fetch(url, s ? { ...init, signal: s } : init);
    const reply = { status: res.status, text: await res.text() };
    if (d) d.done();
    return reply;
  } catch (e) {
    throw d ? d.error(e) : e;
  }
}

/** The credit balance as a plain object. */
export function creditsObject(available, frozen, total) {
  return { available, frozen, total };
}

/**
 * Settles like `promise`, or rejects with an AbortError as soon as `signal`
 * fires, removing its listener either way (long-lived signals don't leak).
 */
export function raceAbort(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Marks a promise's rejection as handled (the caller may never await it). */
export function quiet(p) {
  p.catch(() => {});
  return p;
}

/**
 * A pull queue for `for await`: `push(value)` / `fail(error)` / `end()` on
 * the producer side; `next()` / `return()` on the consumer side. `return()`
 * (what `break` calls) aborts `controller`, which stops the network work and
 * releases the stream reader.
 */
export function eventQueue(controller) {
  const items = [];
  const waiters = [];
  let finished = false;
  let failure = null;
  const settle = () => {
    while (waiters.length) {
      if (items.length) {
        waiters.shift().resolve({ value: items.shift(), done: false });
      } else if (failure) {
        waiters.shift().reject(failure);
        failure = null;
        finished = true;
      } else if (finished) {
        waiters.shift().resolve({ value: undefined, done: true });
      } else {
        return;
      }
    }
  };
  const queue = {
    push(v) {
      if (!finished) items.push(v);
      settle();
    },
    fail(e) {
      if (!finished) failure = e;
      settle();
    },
    end() {
      finished = true;
      settle();
    },
    next() {
      return new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
        settle();
      });
    },
    return(value) {
      items.length = 0;
      failure = null;
      finished = true;
      settle();
      controller.abort();
      return Promise.resolve({ value, done: true });
    },
    abort() {
      controller.abort();
    },
  };
  queue[Symbol.asyncIterator] = () => queue;
  return queue;
}

/**
 * Settles like `promise`, or resolves to `{ timeout: true }` after `ms`.
 * The timer is cleared when the promise wins, so an idle Node process can
 * exit. Rejects with an AbortError when `signal` fires.
 */
export function raceTimeout(promise, ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(abortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const done = () => {
      clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(() => {
      done();
      resolve({ timeout: true });
    }, Math.max(0, ms));
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        done();
        resolve(v);
      },
      (e) => {
        done();
        reject(e);
      },
    );
  });
}

/**
 * `Content-Length` of a URL by HEAD, or null when unknown (including when
 * no answer came within `ms`, 0: no limit). Rejects only on `signal`.
 */
export async function contentLength(url, signal, ms) {
  const d = limited(ms) ? new Deadline(signal, ms) : null;
  try {
    const res = await fetch(url, { method: 'HEAD', signal: d ? d.signal : signal });
    if (d) d.done();
    const n = Number(res.headers.get('content-length'));
    return res.ok && Number.isFinite(n) && n > 0 ? n : null;
  } catch (e) {
    const err = d ? d.error(e) : e;
    if (isAbort(err)) throw err;
    return null;
  }
}

/**
 * Downloads `url` into a Blob, reporting progress. Chunks are collected as
 * JS objects and never enter wasm memory. Resolves to { status, blob }; a
 * non-2xx status resolves with blob null so the caller can fall back.
 */
export async function downloadBlob(url, headers, signal, onProgress) {
  const res = await fetch(url, { headers, signal });
  if (!res.ok || !res.body) {
    if (res.body) await res.body.cancel().catch(() => {});
    return { status: res.status, blob: null };
  }
  // An API envelope (`{"code":1001,…}` comes with HTTP 200) or a proxy page
  // is an answer about the download, never the video itself.
  const ctype = (res.headers.get('content-type') || '').toLowerCase();
  if (ctype.includes('json') || ctype.includes('text/html')) {
    return { status: res.status, blob: null, text: await res.text() };
  }
  const total = Number(res.headers.get('content-length')) || 0;
  const type = res.headers.get('content-type') || 'video/mp4';
  const reader = res.body.getReader();
  const parts = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      received += value.byteLength;
      if (onProgress) {
        try {
          onProgress(received, total || received);
        } catch {
          // A throwing progress callback must not break the download.
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
  return { status: res.status, blob: new Blob(parts, { type }) };
}

// ---- Building decoder output (one call per pushed chunk) ------------------
//
// The wasm decoders hand back their strings in two buffers (the all-ASCII
// ones as bytes, the others as UTF-16LE, two bytes a code unit) plus a table
// of numbers per event; these turn them into JS objects in one pass, so a
// chunk costs one boundary crossing, not one per field. Each buffer becomes
// one string with one copy (UTF-8 with any non-ASCII byte in it would go
// through a per-byte decoder at a fraction of that speed). They live here,
// not in inline snippets next to their Rust, because every extra ES module
// costs an import about 0.5 ms at a cold start.

/** Made on first use: a UTF-16 decoder is not free to construct at import. */
let utf8Decoder = null;
let utf16Decoder = null;
/**
 * Node's `Buffer` makes a string of Latin-1 or UTF-16 bytes with one copy
 * (V8's own string constructors), where `TextDecoder` goes through ICU:
 * about 8× faster for UTF-16, 2× for ASCII. Elsewhere, `TextDecoder`.
 * (`globalThis.Buffer`, not `Buffer`: a bundler must not see a global to
 * polyfill.)
 */
const nodeBuffer = globalThis.Buffer && globalThis.Buffer.prototype;
const latin1Slice = nodeBuffer && typeof nodeBuffer.latin1Slice === 'function' ? nodeBuffer.latin1Slice : null;
const ucs2Slice = nodeBuffer && typeof nodeBuffer.ucs2Slice === 'function' ? nodeBuffer.ucs2Slice : null;

/**
 * The wasm memory (each decoder hands it over when made) and views of it,
 * made again when it grew (growing detaches the old buffer). The builders
 * get addresses and lengths and read the buffers here: a slice argument
 * would cost a typed-array view per buffer per call.
 */
let wasmMemory = null;
let heapU8 = null;
let heapU32 = null;

export function decoderMemory(memory) {
  wasmMemory = memory;
}

function heap() {
  if (heapU8 === null || heapU8.byteLength === 0) {
    heapU8 = new Uint8Array(wasmMemory.buffer);
    heapU32 = new Uint32Array(wasmMemory.buffer);
  }
}

/** The ASCII buffer at `at` (`len` bytes) as one string. */
function asciiText(at, len) {
  if (len === 0) return '';
  if (latin1Slice) return latin1Slice.call(heapU8, at, at + len);
  return (utf8Decoder ||= new TextDecoder()).decode(heapU8.subarray(at, at + len));
}

/**
 * The UTF-16LE buffer at `at` (`len` bytes) as one string. `ignoreBOM`: a
 * string that begins with U+FEFF keeps it (by default the decoder would
 * drop a leading one, and every later slice would be off by one).
 */
function wideText(at, len) {
  if (len === 0) return '';
  if (ucs2Slice) return ucs2Slice.call(heapU8, at, at + len);
  return (utf16Decoder ||= new TextDecoder('utf-16le', { ignoreBOM: true })).decode(heapU8.subarray(at, at + len));
}

/**
 * `SseEvent[]` from one `SseDecoder.push` (`nemo_decode::sse_batch`): the
 * strings in two buffers, and a table of 6 numbers per event: flags, then
 * the UTF-16 lengths of its type, data and id, then retry's low and high 32
 * bits. Flags: 1 has a type, 2 has an id, 4 has a retry; 8, 16, 32: the
 * type, data, id is in the UTF-16 buffer; 64: the id is the previous
 * event's. Each buffer comes as its address and length in wasm memory (the
 * table's length in numbers).
 */
export function buildSseEvents(asciiAt, asciiLen, wideAt, wideLen, tableAt, tableLen) {
  heap();
  const text = asciiText(asciiAt, asciiLen);
  const wide = wideText(wideAt, wideLen);
  const t = heapU32;
  const n = (tableLen / 6) | 0;
  const out = new Array(n);
  let at = 0;
  let atWide = 0;
  let id = '';
  for (let i = 0, row = tableAt >>> 2; i < n; i++, row += 6) {
    const flags = t[row];
    let type = 'message';
    if (flags & 1) {
      const len = t[row + 1];
      if (flags & 8) type = wide.slice(atWide, (atWide += len));
      else type = text.slice(at, (at += len));
    }
    const len = t[row + 2];
    let data;
    if (flags & 16) data = wide.slice(atWide, (atWide += len));
    else data = text.slice(at, (at += len));
    const event = { type, data };
    if (flags & 2) {
      if ((flags & 64) === 0) {
        const idLen = t[row + 3];
        if (flags & 32) id = wide.slice(atWide, (atWide += idLen));
        else id = text.slice(at, (at += idLen));
      }
      event.id = id;
    }
    // Low and high 32 bits (at most 2^53 - 1: exact as a number).
    if (flags & 4) event.retry = t[row + 5] * 4294967296 + t[row + 4];
    out[i] = event;
  }
  return out;
}

/** Indexed by the row kinds of `core::event_batch::kind` (TEXT = 0 … INVALID = 7). */
const AGENT_KINDS = ['text', 'thought', 'tool_call', 'tool_result', 'state_delta', 'heartbeat', 'error', 'invalid'];
/**
 * `AgentEventLite[]` from one `AgentDecoder.push`: its ASCII strings as
 * bytes, its other strings as UTF-16LE, and a table of 2 numbers per event
 * (flags, UTF-16 length); each as its address and length in wasm memory.
 * Flags: bits 0–2 the kind, bit 3 partial, bit 4 the string is in `wide`.
 */
export function buildAgentEvents(asciiAt, asciiLen, wideAt, wideLen, tableAt, tableLen) {
  heap();
  const text = asciiText(asciiAt, asciiLen);
  const wide = wideText(wideAt, wideLen);
  const t = heapU32;
  const n = tableLen >>> 1;
  const out = new Array(n);
  let at = 0;
  let atWide = 0;
  for (let i = 0, row = tableAt >>> 2; i < n; i++, row += 2) {
    const flags = t[row];
    const len = t[row + 1];
    const k = flags & 7;
    let s;
    if (len !== 0) {
      if ((flags & 16) === 0) {
        s = text.slice(at, at + len);
        at += len;
      } else {
        s = wide.slice(atWide, atWide + len);
        atWide += len;
      }
    }
    out[i] = {
      kind: AGENT_KINDS[k],
      text: k < 2 ? (s === undefined ? '' : s) : undefined,
      partial: (flags & 8) !== 0,
      name: k === 2 || k === 3 ? (s === undefined ? '' : s) : undefined,
      error: k >= 6 ? (s === undefined ? '' : s) : undefined,
    };
  }
  return out;
}
