// Runs one chat turn with the built package and records what a user of the
// client sees, as plain data. The same module runs in Node (imported by the
// suite) and in Chromium (served to the test page), so both environments are
// checked by the same assertions (tests/adk/cases.mjs).
//
//   runTurn(pkg, { baseUrl, sessionId, text, sendOptions? })
//     pkg: the package's exports ({ NemoClient, NemoError, … })
//   → { events: [{ type, t, … }], iterError, result, error, ms }
//     t: milliseconds from send() to the event's arrival in the client.

/** A storage that keeps nothing on disk or in the page's localStorage. */
function memoryStorage() {
  const m = new Map();
  return { get: (k) => m.get(k) ?? null, set: (k, v) => void m.set(k, v) };
}

export function plainError(pkg, e) {
  if (e === undefined || e === null) return e;
  if (typeof e !== 'object') return { thrown: String(e) };
  return {
    isNemoError: typeof pkg.NemoError === 'function' && e instanceof pkg.NemoError,
    name: e.name,
    constructorName: e.constructor?.name,
    kind: e.kind,
    code: e.code,
    status: e.status,
    message: String(e.message),
    recovery: e.recovery ? { ...e.recovery } : e.recovery,
  };
}

export function plainResult(r) {
  if (!r || typeof r !== 'object') return r;
  const { timeline, ...rest } = r;
  return { ...rest, hasTimeline: timeline !== undefined && timeline !== null };
}

function plainEvent(pkg, ev, t) {
  const o = { t };
  for (const [k, v] of Object.entries(ev)) {
    if (k === 'error') o.error = plainError(pkg, v);
    else if (k === 'result') o.result = plainResult(v);
    else o[k] = v;
  }
  return o;
}

export async function runTurn(pkg, { baseUrl, sessionId, text, sendOptions, timeoutMs = 60000 }) {
  const client = new pkg.NemoClient({
    baseUrl,
    // A token skips the anonymous-token call (ADK has no such endpoint).
    token: 'test-token',
    clientId: 'adk-conformance-0000',
    storage: memoryStorage(),
  });
  const session = client.session(sessionId);
  const start = performance.now();
  const out = { events: [], iterError: null, result: null, error: null, ms: 0 };
  const turn = session.send(text, sendOptions);
  // A turn that never ends fails its case instead of hanging the suite.
  const guard = setTimeout(() => turn.abort(), timeoutMs);
  try {
    for await (const ev of turn) out.events.push(plainEvent(pkg, ev, performance.now() - start));
  } catch (e) {
    out.iterError = plainError(pkg, e);
  }
  try {
    out.result = plainResult(await turn.result);
  } catch (e) {
    out.error = plainError(pkg, e);
  }
  clearTimeout(guard);
  out.ms = performance.now() - start;
  return out;
}
