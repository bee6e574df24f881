// (6) `nemo-video chat` driven through a pseudo-terminal (python3's pty):
// routed replies, a real agent turn with an attached photo (tool activity,
// GUI-translated reply), and /quit.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { ARTIFACTS, ROOT, installedProject, makePhoto, run, startEmulator, tempDir } from './helpers.mjs';

let emu;
let project;
let home;
before(async () => {
  emu = await startEmulator();
  project = installedProject('nemo-chat-');
  home = tempDir('nemo-chat-home-');
  makePhoto(join(project, 'photo.png'));
});
after(() => emu.stop());

test('chat through a pty: one turn, replies shown, /quit exits 0', async () => {
  const script = [
    ['expect', 'you › '],
    ['send', 'echo:hello from the pty'],
    ['expect', 'nemo › hello from the pty'],
    ['expect', 'you › '],
    ['send', 'credits'],
    ['expect', 'nemo › You have \\d+ credits available'],
    ['expect', 'you › '],
    ['send', 'animate photo.png into a cinematic video clip with a slow zoom in'],
    ['expect', '✓ upload'],
    ['expect', 'Generating video'],
    ['expect', 'nemo › \\S'],
    ['expect', 'you › ', 60],
    ['send', 'status'],
    ['expect', 'nemo › Timeline \\(\\d+ tracks?\\): 1\\. Video: photo'],
    ['expect', 'you › '],
    ['send', '/quit'],
  ];
  const r = await run('python3', [join(ROOT, 'tests/package/pty_drive.py'), JSON.stringify(script), join(project, 'node_modules/.bin/nemo-video'), 'chat', '--api', emu.url], {
    cwd: project,
    env: { PATH: process.env.PATH, HOME: home, TERM: 'xterm-256color' },
  });
  const out = JSON.parse(r.stdout);
  writeFileSync(join(ARTIFACTS, 'chat-pty.txt'), out.output);
  assert.equal(out.failed, null, `${out.failed}\n--- output ---\n${out.output}\n${r.stderr}`);
  assert.equal(out.exit, 0, out.output);
});
