// NemoVideo Studio: the demo page. The studio itself is one element from the
// package, <nemo-studio> (nemo-video/studio); this page adds its chrome: the
// settings (API address and token), drag and drop anywhere on the page, and
// the loopback-only test timings. Static files only; every call goes from
// this page straight to the API through the nemo-video client (WebAssembly).

import './pkg/studio.js';

const KEYS = {
  settings: 'nemovideo.demo.settings',
  handle: 'nemovideo.demo.handle', // written by the element (storage-key="nemovideo.demo")
  token: 'nemovideo.demo.token', // sessionStorage only
  // Shorter protocol waits against a local emulator (tests, debugging),
  // e.g. '{"stillWorkingMs":500}'; sessionStorage only, honoured on loopback.
  timing: 'nemovideo.demo.timing',
};

const $ = (selector) => {
  const node = document.querySelector(selector);
  if (!node) throw new Error(`missing element ${selector}`);
  return node;
};

const ui = {
  studio: $('#studio'),
  settingsBtn: $('#settings-btn'),
  settings: $('#settings'),
  settingsForm: $('#settings-form'),
  apiUrl: $('#api-url'),
  apiToken: $('#api-token'),
  forgetToken: $('#forget-token'),
  newProjectBtn: $('#new-project-btn'),
};

const storage = {
  get(area, key) {
    try {
      return area.getItem(key);
    } catch {
      return null;
    }
  },
  set(area, key, value) {
    try {
      if (value === null) area.removeItem(key);
      else area.setItem(key, value);
    } catch {
      // Private mode or storage full: the page still works, without resume.
    }
  },
};

function settings() {
  try {
    return JSON.parse(storage.get(localStorage, KEYS.settings) || '{}') || {};
  } catch {
    return {};
  }
}

function ownOrigin() {
  return location.protocol.startsWith('http') ? location.origin : 'https://mega-api-prod.nemovideo.ai';
}

/** The API base URL: the saved setting, else this page's own origin. */
function baseUrl() {
  return (settings().baseUrl || '').trim().replace(/\/+$/, '') || ownOrigin();
}

function token() {
  return storage.get(sessionStorage, KEYS.token) || undefined;
}

function isLoopback(url) {
  try {
    const host = new URL(url, location.href).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** `KEYS.timing` as an object of numbers; anything else is ignored. */
function localTiming() {
  try {
    const t = JSON.parse(storage.get(sessionStorage, KEYS.timing) || '{}');
    return Object.fromEntries(Object.entries(t).filter(([, v]) => typeof v === 'number'));
  } catch {
    return {};
  }
}

/** The element's settings from the page's: API address, token, test timings. */
function configure() {
  const s = ui.studio;
  const saved = (settings().baseUrl || '').trim();
  if (saved) s.api = saved;
  else s.removeAttribute('api');
  s.token = token();
  // Against a local emulator the element polls renders every 1.5 s; a remote
  // API gets the protocol's documented cadence (30 s, 10 polls).
  s.options = isLoopback(baseUrl()) ? { timing: localTiming() } : {};
}

configure();
// The element is defined: its placeholder child goes.
document.querySelector('#studio-loading')?.remove();

// ---- Settings ----------------------------------------------------------------------

function openSettings() {
  const s = settings();
  ui.apiUrl.value = s.baseUrl || '';
  ui.apiUrl.placeholder = ownOrigin();
  ui.apiToken.value = '';
  ui.apiToken.placeholder = token() ? 'A token is saved for this tab (hidden)' : 'nmv_usr_…';
  ui.forgetToken.checked = false;
  ui.forgetToken.parentElement.hidden = !token();
  if (typeof ui.settings.showModal === 'function') ui.settings.showModal();
  else ui.settings.setAttribute('open', '');
  ui.apiUrl.focus();
}

function saveSettings() {
  const url = ui.apiUrl.value.trim();
  if (url) {
    try {
      const u = new URL(url);
      if (!/^https?:$/.test(u.protocol)) throw new Error('scheme');
    } catch {
      ui.apiUrl.setCustomValidity('Enter a full http(s) URL, e.g. https://mega-api-prod.nemovideo.ai');
      ui.apiUrl.reportValidity();
      return false;
    }
  }
  ui.apiUrl.setCustomValidity('');
  const before = baseUrl();
  storage.set(localStorage, KEYS.settings, JSON.stringify({ baseUrl: url }));
  const t = ui.apiToken.value.trim();
  ui.apiToken.value = '';
  if (t) storage.set(sessionStorage, KEYS.token, t);
  else if (ui.forgetToken.checked) storage.set(sessionStorage, KEYS.token, null);
  // Another API or another account: the saved project is not theirs.
  if (baseUrl() !== before || t || ui.forgetToken.checked) storage.set(localStorage, KEYS.handle, null);
  configure();
  ui.studio.reconnect();
  return true;
}

ui.settingsBtn.addEventListener('click', openSettings);
ui.settingsForm.addEventListener('submit', (e) => {
  const action = e.submitter && e.submitter.value;
  if (action === 'save' && !saveSettings()) e.preventDefault();
});
ui.apiUrl.addEventListener('input', () => ui.apiUrl.setCustomValidity(''));
ui.newProjectBtn.addEventListener('click', () => {
  ui.settings.close();
  ui.studio.newProject();
});
// Token safety: nothing on the page ever echoes the field.
ui.apiToken.addEventListener('change', () => ui.apiToken.setAttribute('value', ''));

// A refused token: the element asks for the settings; this page has them.
ui.studio.addEventListener('nemo-settings', (e) => {
  e.preventDefault();
  openSettings();
});

// ---- Drag and drop anywhere on the page ------------------------------------------------

for (const type of ['dragenter', 'dragover']) {
  document.addEventListener(type, (e) => {
    if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) e.preventDefault();
  });
}
document.addEventListener('drop', (e) => {
  // A drop on the element itself is the element's (it prevents the default).
  if (e.defaultPrevented || !e.dataTransfer || !e.dataTransfer.files.length) return;
  e.preventDefault();
  ui.studio.addFiles(e.dataTransfer.files);
});
