// Errors in plain language, each with one next step. The client's errors
// carry `kind`, `code`, `status`, a `message` and a `recovery`
// ({ action, description, url?, waitMs? }); anything else (a bug, a
// TypeError) is shown as a generic problem.

import { el, icon, ICONS, redact } from './ui.js';

/** Title and explanation for an error, by kind. */
export function explain(error) {
  const kind = error && error.kind;
  const message = error && error.message ? String(error.message) : String(error);
  const r = (error && error.recovery) || {};
  switch (kind) {
    case 'out_of_credits':
      return {
        title: "You're out of credits",
        text:
          r.action === 'register'
            ? 'Generating and editing clips uses credits, and this free anonymous account has used them all. Create a free account to get more; your project stays where it is.'
            : 'Generating and editing clips uses credits and your balance is empty. Top up in the web app, then try again.',
        link: r.url ? { href: r.url, label: r.action === 'register' ? 'Create a free account' : 'Top up credits' } : null,
      };
    case 'export_blocked':
      return {
        title: "Export isn't allowed on this plan (HTTP 402)",
        text: 'The server refused to export the video. This is not a credit problem and nothing was charged: the free plan blocks export here, or a proxy removed the attribution headers the API requires.',
      };
    case 'rate_limited':
      return {
        title: 'Too many requests',
        text: 'The service asked us to slow down. You can try again when the countdown ends.',
        waitMs: Number.isFinite(r.waitMs) ? r.waitMs : 30000,
      };
    case 'network':
      return {
        title: "Can't reach the video service",
        text: 'The connection failed. Check your internet connection (or that the API address in Settings is right), then try again.',
      };
    case 'timeout':
    case 'stream_stalled':
      return {
        title: 'This is taking too long',
        text: `${message} Your project is saved on the server; trying again will not charge twice for work that already finished.`,
      };
    case 'session_not_found':
      return {
        title: 'This project has expired',
        text: 'The server no longer has this project. Start a new one to continue; your files need to be added again.',
        retryLabel: 'Start a new project',
      };
    case 'token_expired':
      return {
        title: 'Your token is no longer valid',
        text: 'The API token was refused. Enter a new one in Settings, or clear it to use a free anonymous token.',
        retryLabel: 'Open settings',
      };
    case 'unsupported_file':
      return { title: "That file type isn't supported", text: `${message} ${r.description || ''}`.trim() };
    case 'file_too_large':
      return { title: 'That file is too large', text: `${message} ${r.description || ''}`.trim() };
    case 'render_failed':
      return {
        title: 'The export failed',
        text: 'The render failed twice on the server. Your timeline is unchanged; you can try the export again.',
      };
    case 'invalid_input':
      return { title: "Can't do that yet", text: message };
    case 'protocol':
      // The message already says what to do; add only what the recovery
      // action means for this page (never "try again" where it cannot help).
      if (r.action === 'retry') return { title: 'The server is having trouble', text: message };
      if (r.action === 'check_access') return { title: 'Access refused', text: message };
      if (r.action === 'report_bug') {
        return { title: 'The server refused the request', text: `${message} This is a bug in this page; please report it.` };
      }
      return { title: 'Something went wrong', text: message };
    default:
      return {
        title: 'Something went wrong',
        text: message || 'An unexpected error happened.',
      };
  }
}

/**
 * An error card: title, plain explanation, a link when there is one (the
 * registration page) and one retry button (with a countdown after a 429).
 * `onRetry` is called once; the card removes itself.
 */
export function errorCard(error, { onRetry, retryLabel = 'Try again', secrets = [] } = {}) {
  const info = explain(error);
  const card = el('div', { class: 'error-card', attrs: { role: 'alert', 'data-kind': (error && error.kind) || 'unknown' } });
  card.append(icon(ICONS.alert, 'icon error-icon'));
  const body = el('div', { class: 'error-body' }, [
    el('strong', { class: 'error-title', text: redact(info.title, secrets) }),
    el('p', { class: 'error-text', text: redact(info.text, secrets) }),
  ]);
  const actions = el('div', { class: 'error-actions' });
  if (info.link) {
    actions.append(
      el('a', {
        class: 'btn btn-primary',
        text: info.link.label,
        attrs: { href: info.link.href, target: '_blank', rel: 'noopener noreferrer' },
      }),
    );
  }
  let timer = null;
  if (onRetry) {
    const label = info.retryLabel || retryLabel;
    const btn = el('button', { class: info.link ? 'btn' : 'btn btn-primary', text: label, attrs: { type: 'button' } });
    btn.addEventListener('click', () => {
      if (timer) clearInterval(timer);
      card.remove();
      onRetry();
    });
    if (info.waitMs) {
      const until = Date.now() + info.waitMs;
      const countdown = el('span', { class: 'countdown', attrs: { 'aria-live': 'polite' } });
      let shown = null;
      const tick = () => {
        const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
        if (left === shown) return;
        shown = left;
        if (left <= 0) {
          clearInterval(timer);
          timer = null;
          btn.disabled = false;
          btn.textContent = label;
          countdown.textContent = 'You can try again now.';
        } else {
          btn.disabled = true;
          btn.textContent = `${label} in ${left}s`;
          if (left % 5 === 0 || !countdown.textContent) countdown.textContent = `Retry possible in ${left} seconds.`;
        }
      };
      tick();
      timer = setInterval(tick, 250);
      body.append(countdown);
    }
    actions.append(btn);
  }
  body.append(actions);
  card.append(body);
  return card;
}
