// Draws a `Timeline` (from `session.state()` or a turn's result) as tracks:
// video clips, music with its volume, titles. Positions are CSS custom
// properties set through the CSSOM (allowed by a strict style-src).

import { el, icon, ICONS, seconds } from './ui.js';

const TRACK_NAMES = { video: 'Video', audio: 'Music', text: 'Titles', other: 'Other' };

function segmentLabel(kind, seg) {
  if (kind === 'text') return seg.text ? `“${seg.text}”` : seg.name || 'Title';
  if (kind === 'audio') {
    const name = seg.name || 'Music';
    return Number.isFinite(seg.volume) ? `${name} · ${Math.round(seg.volume)}%` : name;
  }
  const name = seg.name || 'Clip';
  return seg.camera ? `${name} · ${seg.camera.replace(/_/g, ' ')}` : name;
}

/**
 * Renders `timeline` into `tracksEl`, the summary line into `summaryEl`,
 * the ruler into `rulerEl` and the aspect ratio pill. Returns whether the
 * timeline is ready for export.
 */
export function renderTimeline(timeline, { tracksEl, summaryEl, rulerEl, aspectEl }) {
  const tracks = timeline ? timeline.tracks : [];
  const summary = timeline ? timeline.summary() : '';
  const hasSegments = tracks.some((t) => t.segments.length > 0);
  summaryEl.textContent = hasSegments
    ? summary
    : 'Nothing on the timeline yet. Your clip, music and titles will appear here.';
  const aspect = timeline && timeline.aspectRatio;
  aspectEl.hidden = !aspect;
  aspectEl.textContent = aspect || '';

  let total = 0;
  for (const t of tracks) for (const s of t.segments) total = Math.max(total, s.startMs + s.durationMs);
  total = Math.max(total, 1000);

  const rows = [];
  for (const t of tracks) {
    if (!t.segments.length) continue;
    const kind = TRACK_NAMES[t.kind] ? t.kind : 'other';
    const lane = el('div', { class: 'lane' });
    for (const s of t.segments) {
      const label = segmentLabel(kind, s);
      const range = `${seconds(s.startMs)}–${seconds(s.startMs + s.durationMs)}`;
      const seg = el('div', {
        class: `seg seg-${kind}`,
        attrs: { role: 'listitem', title: `${label} (${range})`, 'aria-label': `${label}, ${range}` },
      });
      seg.style.setProperty('--start', `${(100 * s.startMs) / total}%`);
      seg.style.setProperty('--len', `${Math.max(2, (100 * s.durationMs) / total)}%`);
      seg.append(el('span', { class: 'seg-label', text: label }));
      if (kind === 'audio' && Number.isFinite(s.volume)) {
        const vol = el('span', { class: 'seg-volume', attrs: { 'aria-hidden': 'true' } });
        vol.style.setProperty('--vol', `${Math.min(100, Math.max(0, s.volume))}%`);
        seg.append(vol);
      }
      lane.append(seg);
    }
    const head = el('div', { class: 'track-head' }, [icon(ICONS[kind]), el('span', { text: TRACK_NAMES[kind] })]);
    rows.push(el('div', { class: `track track-${kind}`, attrs: { role: 'listitem' } }, [head, el('div', { class: 'lane-wrap', attrs: { role: 'list', 'aria-label': `${TRACK_NAMES[kind]} track` } }, [lane])]));
  }
  tracksEl.replaceChildren(...rows);
  tracksEl.hidden = rows.length === 0;

  // A ruler with about five ticks in whole seconds.
  rulerEl.replaceChildren();
  rulerEl.hidden = rows.length === 0;
  if (rows.length) {
    const stepS = Math.max(1, Math.ceil(total / 1000 / 5));
    for (let s = 0; s * 1000 <= total; s += stepS) {
      const tick = el('span', { class: 'tick', text: `${s}s` });
      tick.style.setProperty('--at', `${(100 * s * 1000) / total}%`);
      rulerEl.append(tick);
    }
  }
  return Boolean(timeline && timeline.readyForExport);
}
