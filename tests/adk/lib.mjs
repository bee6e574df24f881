// Shared set-up of the ADK conformance suite (tests/adk/*.test.mjs): the
// running ADK server (started by tests/adk/run.sh through scripts/adk.sh),
// sessions made through ADK's own routes, a body-rewriting relay in front of
// ADK, and a static server for the Chromium test page. Everything stays on
// loopback.
//
// Env (set by tests/adk/run.sh):
//   NEMO_ADK_URL        the ADK server's base URL (http://127.0.0.1:<port>)
//   NEMO_ADK_PAGE_PORT  the port of the Chromium test page; its origin
//                       (http://127.0.0.1:<port>) is ADK's --allow_origins.

import { createServer, request as httpRequest } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PKG = join(ROOT, 'pkg');
export const HERE = join(ROOT, 'tests/adk');
export const APP = 'nemo_agent';
export const USER = 'me';

export function adkUrl() {
  const url = process.env.NEMO_ADK_URL;
  if (!url) throw new Error('NEMO_ADK_URL is not set: run the suite with `bash tests/adk/run.sh`');
  return url.replace(/\/$/, '');
}

export function pagePort() {
  const port = Number(process.env.NEMO_ADK_PAGE_PORT);
  if (!port) throw new Error('NEMO_ADK_PAGE_PORT is not set: run the suite with `bash tests/adk/run.sh`');
  return port;
}

export function requirePkg() {
  if (!existsSync(join(PKG, 'node.js')) || !existsSync(join(PKG, 'index.js'))) {
    throw new Error('pkg/ is missing: run `bash scripts/build-pkg.sh`');
  }
}

/** A new ADK session (POST /apps/nemo_agent/users/me/sessions) → its id. */
export async function createSession(base = adkUrl()) {
  const res = await fetch(`${base}/apps/${APP}/users/${USER}/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`ADK session create: HTTP ${res.status} ${text}`);
  const { id } = JSON.parse(text);
  if (typeof id !== 'string' || !id) throw new Error(`ADK session create: no id in ${text}`);
  return id;
}

/** The stored ADK session (GET …/sessions/<id>): its state and events. */
export async function getSession(id, base = adkUrl()) {
  const res = await fetch(`${base}/apps/${APP}/users/${USER}/sessions/${id}`);
  if (res.status !== 200) throw new Error(`ADK session get: HTTP ${res.status}`);
  return res.json();
}

/** A raw POST /run_sse: { status, contentType, body } (what ADK answers). */
export async function rawRunSse(body, { base = adkUrl(), headers = {} } = {}) {
  const res = await fetch(`${base}/run_sse`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

/**
 * A relay on loopback in front of ADK: every request is forwarded as is
 * (streamed back unbuffered), except that `rewrite({ method, path, headers,
 * body })` may change the headers and the JSON body of a POST /run_sse first.
 * It records every request it saw (`seen`: method, path, headers, the body as
 * sent by the client). Resolves { url, seen, close() }.
 */
export async function startRelay(rewrite = () => {}, target = adkUrl()) {
  const to = new URL(target);
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      delete headers.host; // the real Host of ADK (its DNS-rebinding guard checks it)
      delete headers['content-length'];
      delete headers.connection;
      const entry = { method: req.method, path: req.url, headers: { ...req.headers }, body: body.toString('utf8') };
      seen.push(entry);
      if (req.method === 'POST' && req.url.split('?')[0] === '/run_sse') {
        let json;
        try {
          json = JSON.parse(entry.body);
        } catch {
          json = undefined;
        }
        if (json !== undefined) {
          const out = rewrite({ method: req.method, path: req.url, headers, body: json });
          body = Buffer.from(JSON.stringify(out === undefined ? json : out));
        }
      }
      headers['content-length'] = String(body.length);
      const up = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers },
        (upRes) => {
          res.writeHead(upRes.statusCode, upRes.headers);
          upRes.on('data', (c) => res.write(c));
          upRes.on('end', () => res.end());
        },
      );
      up.on('error', (e) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`relay: ${e.message}`);
      });
      up.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    seen,
    /** The bodies of the POST /run_sse requests, parsed. */
    runSseBodies: () => seen.filter((s) => s.method === 'POST' && s.path === '/run_sse').map((s) => JSON.parse(s.body)),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.ts': 'text/plain' };

/**
 * The Chromium test page's server: `/` the page, `/turn-runner.js`, and the
 * built package under `/pkg/`. `port` 0 picks a free one.
 */
export async function startPageServer(port = 0) {
  const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>nemo-video × ADK</title></head>
<body><p id="state">loading</p>
<script type="module">
import init, * as pkg from '/pkg/index.js';
import { runTurn, plainError } from '/turn-runner.js';
window.runTurn = (opts) => runTurn(pkg, opts);
window.rawFetch = async (url, opts) => {
  try {
    const r = await fetch(url, opts);
    return { status: r.status, contentType: r.headers.get('content-type'), body: await r.text() };
  } catch (e) {
    return { thrown: e.name + ': ' + e.message };
  }
};
init().then(() => { window.nemoReady = true; document.getElementById('state').textContent = 'ready'; },
  (e) => { window.nemoReady = 'init failed: ' + e; });
</script></body></html>
`;
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' });
      return res.end(page);
    }
    let file;
    if (path === '/turn-runner.js') file = join(HERE, 'turn-runner.js');
    else if (path.startsWith('/pkg/')) {
      file = normalize(join(PKG, path.slice('/pkg/'.length)));
      if (!file.startsWith(PKG + sep)) file = undefined;
    }
    if (!file || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  await new Promise((r, j) => {
    server.once('error', j);
    server.listen(port, '127.0.0.1', r);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
