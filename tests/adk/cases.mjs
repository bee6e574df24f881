// What a user of the client must see for each behaviour of the scripted ADK
// agent (tests/adk/agents/nemo_agent/agent.py), written once and checked in
// Node (node.test.mjs) and in Chromium (chromium.test.mjs).
//
// Each case: { name, text, sendOptions?, sessionId?, relay?, checks }; its
// turn runs once, then each [label, check(record, ctx)] of `checks` is a test.
//   record: what tests/adk/turn-runner.js recorded ({ events, iterError,
//           result, error, ms }; every event has `t`, ms since send()).
//   relay:  the name of a relay in RELAYS: the turn goes through it (the
//           request is rewritten, or only recorded, on its way to ADK).
//   ctx:    { relay } (the relay's `seen`, `runSseBodies()`).
//
// These assertions describe the intended behaviour (the issue "Any server,
// any failure"); some fail until the client has it. They are not weakened to
// pass.

import assert from 'node:assert/strict';

export const GREETING = (msg) => `Hello from nemo_agent. You said: ${msg}`;
export const WEATHER_TEXT = 'The weather in Paris is 21.5°C and sunny ☀️.';
export const WEATHER_DELTAS = ['The weather ', 'in Paris is ', '21.5°C ', 'and sunny ☀️.'];
export const THOUGHT_TEXT = 'I should call get_weather.';
export const FAILURE_REASON = 'simulated agent failure';
// Byte for byte what agent.py sends (and what tests/fixtures/adk/ holds).
export const MULTILINGUAL_TEXT =
  'Line 1: plain ASCII.\n' +
  'Line 2: \u4e2d\u6587\u6d4b\u8bd5 \u2014\u2014 \u4f60\u597d\uff0c\u4e16\u754c\uff01\n' +
  'Line 3: emoji \u{1f680}\u{1f44d}\u{1f3fd}\u{1f469}\u200d\u{1f4bb} (astral, skin tone, ZWJ)\n' +
  '\n' +
  'Line 5 after a blank line: quotes " and backslash \\ and tab \t end\n' +
  'Line 6: looks like SSE inside the payload -> data: {"fake":1}\n' +
  '\n' +
  'Line 8: CRLF follows\r\n' +
  'Line 9: U+2028 [\u2028] U+2029 [\u2029] NEL [\x85] are not SSE line breaks\n' +
  'Line 10: end.';
export const LONG_TEXT =
  Array.from(
    { length: 400 },
    (_, i) =>
      `${String(i).padStart(3, '0')} 视频剪辑 ✂️🎬 ${i % 2 ? '日本語テキスト' : '한국어 텍스트'}` +
      ` [\u2028] [\u2029] [\x85] \u{1f469}\u200d\u{1f4bb} Ünïcödé\n`,
  ).join('') + 'END.';

/** Relays the cases use (see lib.mjs startRelay): name → rewrite(req). */
export const RELAYS = {
  // Forwards as is; records the request bodies the client sent.
  spy: () => {},
  // The body without `user_id`: ADK's FastAPI answers 422 (list form).
  'drop-user-id': ({ body }) => {
    delete body.user_id;
    delete body.userId;
  },
  // An app ADK does not serve: 404 {"detail": "Agent not found: …"}.
  'bad-app': ({ body }) => {
    body.app_name = 'no_such_app';
  },
  // An Origin missing from --allow_origins: 403 text/plain (Node only: in a
  // browser the Origin is the page's own).
  'foreign-origin': ({ headers }) => {
    headers.origin = 'http://evil.example';
  },
};

const show = (v) => JSON.stringify(v, (k, x) => (typeof x === 'string' && x.length > 300 ? `${x.slice(0, 300)}…(${x.length} chars)` : x), 1);
const ofType = (rec, type) => rec.events.filter((e) => e.type === type);
const texts = (rec) => ofType(rec, 'text');
const count = (hay, needle) => (needle ? hay.split(needle).length - 1 : 0);

/** The turn succeeded: no error, a `done` event, a result. */
function assertOk(rec) {
  assert.equal(rec.error, null, `the turn failed: ${show(rec.error)}\nevents: ${show(rec.events)}`);
  assert.equal(rec.iterError, null, `for await threw: ${show(rec.iterError)}`);
  assert.ok(rec.result, 'turn.result resolved to a result');
  assert.equal(ofType(rec, 'done').length, 1, 'one "done" event');
}

/** The turn failed: turn.result rejected and `for await` threw, with a NemoError. */
function assertFailed(rec) {
  assert.equal(rec.result, null, `the turn should fail, it resolved: ${show(rec.result)}`);
  assert.ok(rec.error, 'turn.result rejected');
  assert.ok(rec.error.isNemoError, `a NemoError: ${show(rec.error)}`);
  assert.ok(rec.iterError, 'for await threw too');
  assert.equal(rec.iterError.message, rec.error.message, 'the same error both ways');
  return rec.error;
}

/** Each complete message is shown once, never twice. */
function assertNoDuplicateTexts(rec) {
  const seen = texts(rec).map((e) => e.rawText);
  assert.deepEqual(seen, [...new Set(seen)], `no message is shown twice: ${show(seen)}`);
}

/** The summary says what the turn did, not the first sentence of its first text. */
function assertSummary(rec, names) {
  const { summary } = rec.result;
  assert.equal(typeof summary, 'string');
  assert.ok(summary.trim(), 'a non-empty summary');
  assert.notEqual(summary, 'Hello from nemo_agent.', `the summary is not the first sentence of the first text: ${show(summary)}`);
  assert.ok(!summary.startsWith('Hello from nemo_agent'), `the summary does not quote the greeting: ${show(summary)}`);
  assert.match(summary, names, `the summary names what the turn did: ${show(summary)}`);
}

/** Streaming deltas: before the complete text, adding up to it, shown once. */
function assertStreamed(rec, full, deltas) {
  const i = rec.events.findIndex((e) => e.type === 'text' && e.rawText === full);
  assert.ok(i >= 0, `a complete "text" event with the whole text: ${show(texts(rec))}`);
  const before = rec.events.slice(0, i).filter((e) => e.type === 'text-delta');
  assert.ok(before.length >= 2, `"text-delta" events arrive before the complete text (saw ${before.length}): ${show(rec.events.map((e) => e.type))}`);
  assert.equal(before.map((e) => e.text).join(''), full, 'the deltas add up to the text');
  if (deltas) assert.deepEqual(before.map((e) => e.text), deltas, 'each delta as ADK sent it');
  assert.equal(rec.events.slice(i + 1).filter((e) => e.type === 'text-delta').length, 0, 'no delta after the complete text');
  assert.equal(texts(rec).filter((e) => e.rawText === full).length, 1, 'the complete text is shown once');
  assert.equal(count(rec.result.text, full), 1, `the final text holds it once: ${show(rec.result.text)}`);
}

/** The checks every 4xx the client caused gets: status, reason, no code, no retry. */
function clientErrorChecks({ status, reason }) {
  return [
    [`the turn fails with a NemoError carrying HTTP status ${status}`, (rec) => {
      const err = assertFailed(rec);
      assert.equal(err.status, status, `error.status is the HTTP status: ${show(err)}`);
    }],
    [`the error message keeps the server's reason (${reason})`, (rec) => {
      const err = assertFailed(rec);
      assert.match(err.message, reason, `the message keeps the server's reason: ${show(err)}`);
    }],
    ['error.code is undefined (ADK sent no code)', (rec) => {
      const err = assertFailed(rec);
      assert.equal(err.code, undefined, `ADK sent no code, so error.code is undefined: ${show(err)}`);
    }],
    ['recovery.action is not "retry" (a 4xx the client caused)', (rec) => {
      const err = assertFailed(rec);
      assert.notEqual(err.recovery?.action, 'retry', `a 4xx the client caused is not "retry": ${show(err)}`);
    }],
  ];
}

/** The request body the spy relay saw (exactly one POST /run_sse). */
function sentBody(ctx) {
  const bodies = ctx.relay.runSseBodies();
  assert.equal(bodies.length, 1, `one POST /run_sse: ${show(bodies)}`);
  return bodies[0];
}

// Each case's turn runs once; each [label, check] is then its own test, so a
// failure in one leaves the others' verdicts visible.
export const TURN_CASES = [
  {
    name: 'text',
    text: 'hello',
    checks: [
      ['the greeting is one "text" event and the whole final text', (rec) => {
        assertOk(rec);
        assert.deepEqual(texts(rec).map((e) => e.text), [GREETING('hello')]);
        assert.equal(rec.result.text, GREETING('hello'));
        assert.equal(rec.result.rawText, GREETING('hello'));
        assert.equal(rec.result.silent, false);
        assert.deepEqual(rec.result.toolCalls, []);
      }],
      ['no stateDelta: result.stateChanged is false', (rec) => {
        assertOk(rec);
        assert.equal(rec.result.stateChanged, false);
      }],
    ],
  },
  {
    name: 'thought',
    text: 'show a thought',
    checks: [
      ['a "thought" event carries the thought, never shown as text', (rec) => {
        assertOk(rec);
        assert.deepEqual(ofType(rec, 'thought').map((e) => e.text), [THOUGHT_TEXT], show(rec.events));
        assert.ok(!texts(rec).some((e) => e.rawText.includes(THOUGHT_TEXT)), 'the thought is not a text event');
        assert.ok(!rec.result.text.includes(THOUGHT_TEXT), 'nor part of the final text');
        assert.equal(rec.result.text, GREETING('show a thought'));
      }],
    ],
  },
  {
    name: 'tool call, function response and state delta',
    text: 'use a tool',
    checks: [
      ['"tool" events: phase call then result, name get_weather, with labels', (rec) => {
        assertOk(rec);
        const tools = ofType(rec, 'tool');
        assert.deepEqual(tools.map((e) => [e.phase, e.name]), [['call', 'get_weather'], ['result', 'get_weather']], show(rec.events));
        for (const e of tools) assert.ok(e.label, `a tool event has a label: ${show(e)}`);
        assert.deepEqual(rec.result.toolCalls, ['get_weather']);
      }],
      ['"state-delta" events name last_city (with the response) and step (state-only event)', (rec) => {
        assertOk(rec);
        const deltas = ofType(rec, 'state-delta');
        assert.deepEqual(deltas.map((e) => e.keys), [['last_city'], ['step']], show(rec.events));
        const result = rec.events.findIndex((e) => e.type === 'tool' && e.phase === 'result');
        assert.ok(result < rec.events.indexOf(deltas[0]), 'the state delta comes with the function response');
      }],
      ['the stream carried a stateDelta: result.stateChanged is true', (rec) => {
        assertOk(rec);
        assert.equal(rec.result.stateChanged, true, `result: ${show(rec.result)}`);
      }],
      ['result.summary says what the turn did (the get_weather call or the state change), not the greeting', (rec) => {
        assertOk(rec);
        // The message ("use a tool") never mentions the weather, so "weather"
        // can only come from the tool ("get_weather", label "Get weather…").
        assertSummary(rec, /get.?weather|state|last_city/i);
      }],
    ],
  },
  {
    name: 'content + artifact delta (ADK splits it into two events sharing one id)',
    text: 'save an artifact',
    checks: [
      ['"Saved report.txt." is shown once, in the events and in the final text', (rec) => {
        assertOk(rec);
        assert.deepEqual(texts(rec).map((e) => e.text), [GREETING('save an artifact'), 'Saved report.txt.'], show(rec.events));
        assert.equal(count(rec.result.text, 'Saved report.txt.'), 1, `the final text holds it once: ${show(rec.result.text)}`);
        assertNoDuplicateTexts(rec);
      }],
    ],
  },
  {
    name: 'streaming (the default send)',
    text: 'stream the forecast',
    relay: 'spy',
    checks: [
      ['the request carries "streaming": true by default', (rec, ctx) => {
        const body = sentBody(ctx);
        assert.equal(body.streaming, true, `the body sent: ${show(body)}`);
      }],
      ['"text-delta" events arrive before the complete "text", add up to it, and the text is not doubled', (rec) => {
        assertOk(rec);
        assertStreamed(rec, WEATHER_TEXT, WEATHER_DELTAS);
        assert.equal(rec.result.text, `${GREETING('stream the forecast')}\n\n${WEATHER_TEXT}`);
        assertNoDuplicateTexts(rec);
      }],
    ],
  },
  {
    name: 'streaming off: send(text, { streaming: false })',
    text: 'stream the forecast',
    sendOptions: { streaming: false },
    relay: 'spy',
    checks: [
      ['the request does not ask for streaming', (rec, ctx) => {
        const body = sentBody(ctx);
        assert.notEqual(body.streaming, true, `the body sent: ${show(body)}`);
      }],
      ['no "text-delta" events; the complete text once', (rec) => {
        assertOk(rec);
        assert.equal(ofType(rec, 'text-delta').length, 0, show(rec.events.map((e) => e.type)));
        assert.equal(texts(rec).filter((e) => e.rawText === WEATHER_TEXT).length, 1);
        assert.equal(count(rec.result.text, WEATHER_TEXT), 1);
      }],
    ],
  },
  {
    name: 'multilingual text',
    text: 'multilingual please',
    checks: [
      ['rawText of the events and of the result is exact: CJK, emoji, U+2028, U+2029, NEL, CRLF, quotes, a 36 KB text', (rec) => {
        assertOk(rec);
        const raws = texts(rec).map((e) => e.rawText);
        assert.ok(raws.includes(MULTILINGUAL_TEXT), `an event with exactly the multilingual text: ${show(raws)}`);
        assert.ok(raws.includes(LONG_TEXT), `an event with exactly the long text (lengths: ${raws.map((r) => r.length)})`);
        assert.equal(rec.result.rawText, [GREETING('multilingual please'), MULTILINGUAL_TEXT, LONG_TEXT].join('\n\n'));
      }],
      ['the shown text is exact too (line ends may read LF for CRLF; every character kept)', (rec) => {
        assertOk(rec);
        // The GUI translation reads text line by line and shows CRLF as LF
        // (src/core/gui.rs); nothing else may change.
        const shown = (t) => t.replace(/\r\n/g, '\n');
        const t = texts(rec).map((e) => e.text);
        assert.ok(t.includes(shown(MULTILINGUAL_TEXT)), `shown: ${show(t)}`);
        assert.ok(t.includes(shown(LONG_TEXT)), 'the long text shown exactly');
        assert.equal(rec.result.text, shown([GREETING('multilingual please'), MULTILINGUAL_TEXT, LONG_TEXT].join('\n\n')));
        for (const ch of ['\u2028', '\u2029', '\x85', '\u{1f469}\u200d\u{1f4bb}', '中文测试', '视频剪辑'])
          assert.ok(rec.result.text.includes(ch), `the final text keeps ${JSON.stringify(ch)}`);
      }],
    ],
  },
  {
    name: '3 s pause without a heartbeat',
    text: 'pause for a while',
    checks: [
      ['the event after the pause arrives >= 2.5 s after the one before (not buffered)', (rec) => {
        assertOk(rec);
        const working = rec.events.find((e) => e.type === 'text' && e.text === 'Working... (sleeping 3s)');
        const done = rec.events.find((e) => e.type === 'text' && e.text === 'Done after 3s.');
        assert.ok(working && done, show(rec.events));
        assert.ok(rec.events.indexOf(working) < rec.events.indexOf(done), 'in order');
        const gap = done.t - working.t;
        assert.ok(gap >= 2500, `the text before the pause reached the client ${gap.toFixed(0)} ms before the one after it (>= 2500 expected)`);
        assert.equal(ofType(rec, 'still-working').length, 0, '3 s is not "still working"');
      }],
    ],
  },
  {
    name: 'the agent raises mid-stream',
    text: 'error',
    checks: [
      ['the text before the failure is shown; no "done"', (rec) => {
        assert.deepEqual(texts(rec).map((e) => e.text), [GREETING('error')]);
        assert.equal(ofType(rec, 'done').length, 0);
      }],
      [`the turn fails (turn.result and for await) with the server's reason ("${FAILURE_REASON}")`, (rec) => {
        const err = assertFailed(rec);
        assert.ok(err.message.includes(FAILURE_REASON), `the error: ${show(err)}`);
      }],
    ],
  },
  {
    name: 'the captured turn ("What is the weather in Paris?", every behaviour in one stream)',
    text: 'What is the weather in Paris?',
    checks: [
      ['the events in order, each message once', (rec) => {
        assertOk(rec);
        const kinds = rec.events
          .filter((e) => !['heartbeat', 'text-delta', 'state'].includes(e.type))
          .map((e) => (e.type === 'tool' ? `tool:${e.phase}` : e.type === 'state-delta' ? `state-delta:${e.keys.join(',')}` : e.type === 'text' ? `text:${e.rawText.slice(0, 12)}` : e.type));
        assert.deepEqual(kinds, [
          'text:Hello from n',
          'thought',
          'tool:call',
          'tool:result',
          'state-delta:last_city',
          'state-delta:step',
          'text:Saved report',
          'text:The weather ',
          'text:Line 1: plai',
          'text:Working... (',
          'text:Done after 3',
          'done',
        ]);
        assertNoDuplicateTexts(rec);
        assert.equal(
          rec.result.rawText,
          [GREETING('What is the weather in Paris?'), 'Saved report.txt.', WEATHER_TEXT, MULTILINGUAL_TEXT, 'Working... (sleeping 3s)', 'Done after 3s.'].join('\n\n'),
        );
        assert.deepEqual(rec.result.toolCalls, ['get_weather']);
      }],
      ['streamed by default: "text-delta" events before the complete weather text, not doubled', (rec) => {
        assertOk(rec);
        assertStreamed(rec, WEATHER_TEXT, WEATHER_DELTAS);
      }],
      ['result.stateChanged is true', (rec) => {
        assertOk(rec);
        assert.equal(rec.result.stateChanged, true, `result: ${show(rec.result)}`);
      }],
      ['result.summary says what the turn did, not the first sentence of the first text', (rec) => {
        assertOk(rec);
        // What it did: get_weather, the state change, report.txt, or the
        // weather it found (the greeting is excluded above).
        assertSummary(rec, /weather|state|report\.txt/i);
      }],
    ],
  },
];

/** HTTP-level failures, provoked through the client (Node and Chromium). */
export const ERROR_CASES = [
  {
    name: 'unknown session: 404 {"detail":"Session not found: no-such-session"}',
    text: 'hello',
    sessionId: 'no-such-session',
    checks: [
      ...clientErrorChecks({ status: 404, reason: /Session not found/ }),
      ['kind is "session_not_found" (a 404 naming the session); no text shown', (rec) => {
        const err = assertFailed(rec);
        assert.equal(err.kind, 'session_not_found', show(err));
        assert.equal(texts(rec).length, 0);
      }],
    ],
  },
  {
    name: 'a missing field: 422 {"detail":[{"loc":["body","userId"],"msg":"Field required",…}]} (relay drops user_id)',
    text: 'hello',
    relay: 'drop-user-id',
    checks: clientErrorChecks({ status: 422, reason: /user_?id/i }),
  },
  {
    name: 'a bad app: 404 {"detail":"Agent not found: \'no_such_app\'…"} (relay rewrites app_name)',
    text: 'hello',
    relay: 'bad-app',
    checks: [
      ...clientErrorChecks({ status: 404, reason: /Agent not found/ }),
      ['kind is not "session_not_found" (the reason does not mention the session)', (rec) => {
        const err = assertFailed(rec);
        assert.notEqual(err.kind, 'session_not_found', show(err));
      }],
    ],
  },
];

/** Node only: an Origin ADK refuses (in a browser the Origin is the page's). */
export const NODE_ONLY_ERROR_CASES = [
  {
    name: 'a refused origin: 403 text/plain "Forbidden: origin not allowed" (relay sets Origin: http://evil.example)',
    text: 'hello',
    relay: 'foreign-origin',
    checks: clientErrorChecks({ status: 403, reason: /origin not allowed/ }),
  },
];
