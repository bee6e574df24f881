// Downloads are restricted to http(s), end to end: a server that answers a
// completed render with a `javascript:`, `file:` or `data:` output URL gets
// a typed error from the export and from download(), and the client never
// fetches anything that is not http(s). Relative and scheme-relative URLs
// are resolved against the API base (http) and are fine.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { NemoClient, TIMING, settle, errInfo, recordFetches, craftedServer, replies, writeResult } from './lib.mjs';

const results = [];
after(() => writeResult('downloads.json', results));

async function exportWith(outputUrl) {
  const server = await craftedServer((req) => {
    const p = req.url.split('?')[0];
    if (p.startsWith('/api/state/')) return replies.state();
    if (p === '/api/render/proxy/lambda') return { body: '{"success":true,"data":{"id":"r1","status":"pending","progress":0}}' };
    if (p.startsWith('/api/render/proxy/lambda/')) {
      return { body: JSON.stringify({ success: true, status: 'completed', output: { url: outputUrl }, data: { status: 'completed', progress: 100, outputUrl } }) };
    }
    if (p === '/renders/ok.mp4' || p.endsWith('/download')) return { headers: { 'content-type': 'video/mp4', 'content-length': '8' }, body: 'mp4-data' };
    return { status: 404, body: '{"code":404,"msg":"not here"}' };
  });
  const rec = recordFetches();
  try {
    const c = new NemoClient({ baseUrl: server.url, token: 'nmv_usr_given0001', timing: { ...TIMING, renderPollMs: 5, renderMaxPolls: 5 } });
    const job = c.session('sess_x', 'task_x').export();
    const exported = await settle(job.result);
    const downloaded = await settle(job.download());
    return { exported, downloaded, urls: rec.calls.map((x) => x.url), base: server.url };
  } finally {
    rec.restore();
    await server.close();
  }
}

for (const bad of ['javascript:alert(document.domain)', 'JavaScript:void(0)', 'file:///etc/passwd', 'data:video/mp4;base64,AAAAIGZ0eXA=', ' javascript:alert(1)', 'blob:http://127.0.0.1/x', 'vbscript:msgbox', 'renders/ok.mp4']) {
  test(`a completed render with output URL ${JSON.stringify(bad)} is refused`, async () => {
    const r = await exportWith(bad);
    results.push({ outputUrl: bad, export: r.exported.ok ? 'accepted' : errInfo(r.exported.error), download: r.downloaded.ok ? 'accepted' : errInfo(r.downloaded.error) });
    assert.ok(!r.exported.ok, 'the export accepted it');
    assert.equal(r.exported.error.kind, 'protocol');
    assert.match(r.exported.error.message, /not http\(s\)/);
    assert.ok(!r.downloaded.ok, 'download() accepted it');
    assert.equal(r.downloaded.error.kind, 'protocol');
    for (const u of r.urls) assert.match(u, /^http:\/\/127\.0\.0\.1:\d+\//, `fetched ${u}`);
  });
}

test('a relative output URL is resolved against the API base and downloads', async () => {
  const r = await exportWith('/renders/ok.mp4');
  results.push({ outputUrl: '/renders/ok.mp4', export: r.exported.ok ? 'accepted' : errInfo(r.exported.error), download: r.downloaded.ok ? `Blob of ${r.downloaded.value.size} bytes` : errInfo(r.downloaded.error) });
  assert.ok(r.exported.ok, JSON.stringify(r.exported.ok || errInfo(r.exported.error)));
  assert.equal(r.exported.value.url, `${r.base}/renders/ok.mp4`);
  assert.ok(r.downloaded.ok);
  assert.equal(r.downloaded.value.size, 8);
});
