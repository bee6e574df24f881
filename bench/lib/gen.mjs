// Generates the SSE decode benchmark input: a stream of ADK-shaped events
// built from the captured shapes in tests/fixtures/adk/ (the same
// keys, in the same order, with the same bookkeeping), with realistic text
// lengths and about one text in five in Chinese. Deterministic (seeded).
//
// The mix, by event: 70% partial text deltas (8–120 characters), 8% complete
// texts (repeating a whole message, 100–1500 characters), 6% thoughts, 5%
// function calls, 5% function responses, 4% bare state deltas, 2% empty
// `data:` heartbeats; plus a `: heartbeat` comment about every 100 events.
// Every event carries `id: <turn>:<seq>` like the emulator's stream.

const WORDS = (
  'the a clip video camera slow zoom in pan left right orbit title music lo-fi volume scene ' +
  'light city night street rain neon sunset ocean waves drone shot cinematic frame color ' +
  'grade warm cool contrast track timeline export render seconds aspect ratio vertical square ' +
  'I will add set make your photo into with and then of to for on at is are this that it'
).split(' ');
const CJK = '我会把这张照片做成一段电影感的视频镜头缓慢推近加上背景音乐音量百分之三十五标题城市夜景霓虹雨后街道日落海浪航拍画面色调温暖对比度时间线导出渲染秒竖屏方形'.split('');
const PUNCT_ZH = '，。、！';

export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

function makeText(r, minLen, maxLen) {
  const want = minLen + Math.floor(r() * (maxLen - minLen + 1));
  let out = '';
  if (r() < 0.2) {
    while (out.length < want) {
      out += CJK[Math.floor(r() * CJK.length)];
      if (r() < 0.08) out += PUNCT_ZH[Math.floor(r() * PUNCT_ZH.length)];
    }
    return out.slice(0, want);
  }
  while (out.length < want) {
    let w = WORDS[Math.floor(r() * WORDS.length)];
    if (r() < 0.03) w = `"${w}"`;
    if (r() < 0.01) w += '\n';
    if (r() < 0.01) w += ' ☀️';
    out += w + (r() < 0.06 ? '. ' : ' ');
  }
  return out.slice(0, want);
}

function hex(r, n) {
  let s = '';
  while (s.length < n) s += Math.floor(r() * 0x100000000).toString(16).padStart(8, '0');
  return s.slice(0, n);
}
const uuid = (r) => {
  const h = hex(r, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const ACTIONS_EMPTY = { stateDelta: {}, artifactDelta: {}, requestedAuthConfigs: {}, requestedToolConfirmations: {} };

function adkEvent(r, inv, ts, parts, extra = {}) {
  const ev = {};
  if (parts) ev.content = { parts, role: extra.role ?? 'model' };
  if (extra.partial) ev.partial = true;
  ev.invocationId = inv;
  ev.author = 'nemo_agent';
  ev.actions = extra.stateDelta ? { ...ACTIONS_EMPTY, stateDelta: extra.stateDelta } : ACTIONS_EMPTY;
  ev.nodeInfo = { path: '' };
  ev.id = uuid(r);
  ev.timestamp = ts;
  return ev;
}

/**
 * Returns { bytes: Uint8Array, events } with about `targetBytes` bytes of
 * `text/event-stream`.
 */
export function generate(targetBytes, seed = 42) {
  const r = rng(seed);
  const enc = new TextEncoder();
  const pieces = [];
  let size = 0;
  let events = 0;
  let seq = 0;
  let inv = `e-${uuid(r)}`;
  let ts = 1795586807.99;
  let message = '';
  while (size < targetBytes) {
    seq++;
    ts += 0.003;
    if (seq % 400 === 0) inv = `e-${uuid(r)}`;
    const p = r();
    let data;
    if (p < 0.7) {
      const t = makeText(r, 8, 120);
      message += t;
      data = JSON.stringify(adkEvent(r, inv, ts, [{ text: t }], { partial: true }));
    } else if (p < 0.78) {
      const t = message.length > 100 ? message.slice(0, 1500) : makeText(r, 100, 1500);
      message = '';
      const ev = adkEvent(r, inv, ts, [{ text: t }]);
      data = JSON.stringify({
        modelVersion: 'gemini-2.5-flash',
        content: ev.content,
        partial: false,
        finishReason: 'STOP',
        usageMetadata: { candidatesTokenCount: 9 + Math.floor(r() * 400), promptTokenCount: 12 + Math.floor(r() * 4000), totalTokenCount: 2000 },
        ...Object.fromEntries(Object.entries(ev).filter(([k]) => k !== 'content')),
      });
    } else if (p < 0.84) {
      data = JSON.stringify(adkEvent(r, inv, ts, [{ text: makeText(r, 40, 400), thought: true }]));
    } else if (p < 0.89) {
      data = JSON.stringify(
        adkEvent(r, inv, ts, [
          { functionCall: { id: `adk-${uuid(r)}`, args: { prompt: makeText(r, 20, 200), camera: 'zoom_in', duration_s: 5 }, name: 'generate_video' } },
        ]),
      );
    } else if (p < 0.94) {
      data = JSON.stringify(
        adkEvent(
          r,
          inv,
          ts,
          [{ functionResponse: { id: `adk-${uuid(r)}`, name: 'generate_video', response: { status: 'ok', url: `https://cdn.example/${hex(r, 16)}.mp4`, duration_s: 5.0, width: 1080, height: 1920 } } }],
          { role: 'user' },
        ),
      );
    } else if (p < 0.98) {
      data = JSON.stringify(adkEvent(r, inv, ts, null, { stateDelta: { step: 'generated', progress: Math.floor(r() * 100) } }));
    } else {
      data = '';
    }
    let frame = `id: ${inv}:${seq}\ndata: ${data}\n\n`;
    if (seq % 100 === 0) frame = `: heartbeat\n\n${frame}`;
    const b = enc.encode(frame);
    pieces.push(b);
    size += b.length;
    events++;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const b of pieces) {
    bytes.set(b, at);
    at += b.length;
  }
  return { bytes, events };
}
