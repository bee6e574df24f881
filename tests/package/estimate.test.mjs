// (7) The cost preview in Node: `session.estimate(text, { files })` from the
// packed tarball against the emulator: the route, the documented price, the
// balance from one credits GET (none when `available` is given), `enough`,
// `confirm`, and `needsAttachment` for "this photo" / 这张 with nothing
// attached. Nothing is sent to the agent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { installedProject, startEmulator, tempDir } from './helpers.mjs';

let emu;
let project;
before(async () => {
  emu = await startEmulator(); // 1000 credits
  project = installedProject('nemo-estimate-');
});
after(() => emu.stop());

function node(script) {
  const file = join(project, `t${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: tempDir('nemo-est-home-') } });
  if (r.status !== 0) throw new Error(`node failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

test('estimate: route, price, balance, enough/confirm, needsAttachment; one GET, no turn', async () => {
  const statsBefore = await (await fetch(`${emu.url}/__emulator/stats`)).json();
  const r = node(`
    import { NemoClient, InvalidInputError } from 'nemo-video';
    const client = new NemoClient({ baseUrl: ${JSON.stringify(emu.url)} });
    const session = await client.createSession();
    const realFetch = globalThis.fetch;
    const gets = [];
    globalThis.fetch = (input, init) => {
      const url = typeof input === 'string' ? input : input.url;
      gets.push(new URL(url).pathname);
      return realFetch(input, init);
    };
    const photo = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const out = {};
    out.generate = await session.estimate('animate this photo into a cinematic video clip with camera movement');
    out.requests = gets.splice(0);
    out.withFile = await session.estimate('animate this photo into a cinematic video clip with camera movement', { files: [photo] });
    out.zh = await session.estimate('让这张照片动起来');
    gets.splice(0);
    out.edit = await session.estimate('add lo-fi BGM at 35%', { available: 120 });
    out.known = gets.splice(0).length;
    out.free = await Promise.all(['export', '导出', 'credits', '积分', 'status', '状态'].map((t) => session.estimate(t, { available: 0 })));
    out.poor = await session.estimate('generate a cyberpunk city', { available: 40 });
    out.exact = await session.estimate('generate a cyberpunk city', { available: 100 });
    try { await session.estimate(42); } catch (e) { out.bad = { kind: e.kind, typed: e instanceof InvalidInputError }; }
    console.log(JSON.stringify(out));
  `);
  assert.deepEqual(r.generate, {
    action: 'chat',
    intent: 'generate',
    credits: 100,
    available: 1000,
    enough: true,
    confirm: false,
    needsAttachment: true,
    estimate: true,
  });
  assert.deepEqual(r.requests, ['/api/credits/balance/simple'], 'one credits GET, nothing else');
  assert.equal(r.withFile.needsAttachment, false);
  assert.equal(r.withFile.credits, 100);
  assert.equal(r.zh.needsAttachment, true);
  assert.equal(r.zh.credits, 100);
  assert.deepEqual(
    [r.edit.action, r.edit.intent, r.edit.credits, r.edit.available, r.edit.enough, r.edit.confirm],
    ['chat', 'add_music', 50, 120, true, false],
  );
  assert.equal(r.known, 0, 'a known balance makes no request');
  assert.deepEqual(
    r.free.map((e) => [e.action, e.credits, e.enough, e.confirm, e.needsAttachment]),
    [
      ['export', 0, true, false, false],
      ['export', 0, true, false, false],
      ['credits', 0, true, false, false],
      ['credits', 0, true, false, false],
      ['state', 0, true, false, false],
      ['state', 0, true, false, false],
    ],
  );
  assert.deepEqual([r.poor.credits, r.poor.enough, r.poor.confirm], [100, false, true]);
  assert.deepEqual([r.exact.enough, r.exact.confirm], [true, true], 'all of the balance: enough, but ask');
  assert.deepEqual(r.bad, { kind: 'invalid_input', typed: true });
  const statsAfter = await (await fetch(`${emu.url}/__emulator/stats`)).json();
  assert.equal(statsAfter.global.turns_run, statsBefore.global.turns_run, 'no agent turn');
  assert.equal(statsAfter.global.uploads, statsBefore.global.uploads, 'nothing uploaded');
});
