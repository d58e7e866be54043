/* glass.js — glass-to-glass latency: from the fake phone sending a frame to
 * the viewer page in chromium showing it. The clip carries its frame number
 * burned in as 12 black/white boxes; the page reads them back from the
 * displayed frame through a canvas. Latency = (now - publish start) - frame
 * time. Publish start is taken just before ffmpeg is spawned, so ffmpeg's
 * own start-up counts as latency (the figure errs high, never low).
 * Prints figures; asserts nothing about speed (scripts/bench-glass.sh). */
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const h = require('./harness');

const FPS = 30, BITS = 12, BOX = 24, STEP = 28, X0 = 12, Y0 = 300;

function makeBitClip(seconds) {
  const file = path.join(os.tmpdir(), `tourcast-glass-${seconds}.flv`);
  if (fs.existsSync(file)) return file;
  const boxes = [`drawbox=x=${X0 - 6}:y=${Y0 - 6}:w=${STEP * BITS + 8}:h=${BOX + 12}:color=black:t=fill`];
  for (let k = 0; k < BITS; k++)
    boxes.push(`drawbox=x=${X0 + k * STEP}:y=${Y0}:w=${BOX}:h=${BOX}:color=white:t=fill:enable='eq(mod(floor(n/${2 ** k}),2),1)'`);
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
    `testsrc2=size=360x640:rate=${FPS}:duration=${seconds}`, '-vf', boxes.join(','),
    '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '800k', '-g', String(FPS), '-pix_fmt', 'yuv420p',
    '-an', '-f', 'flv', file + '.tmp.flv']);
  fs.renameSync(file + '.tmp.flv', file);
  return file;
}

const servers = [];
h.main('glass', async (t) => {
  const segMs = process.env.SEGMENT_MS || '1000';
  const srv = new h.Server(['--width', '360', '--height', '640', '--bitrate', '800', '--segment-ms', segMs]);
  servers.push(srv);
  await srv.start();
  const clip = makeBitClip(90);
  const t0 = Date.now();
  const phone = h.fakePhone(srv.rtmpUrl, '-c', clip);
  const browser = await h.launchChromium();
  const page = await h.newPage(browser, { width: 360, height: 780 });
  await page.addInitScript(() => {
    localStorage.setItem('tc.details', JSON.stringify({ name: '测', pickup: '1号楼', phone: '13800000000' }));
  });
  await page.goto(srv.url('/'));
  await h.waitFor(() => page.evaluate(() => document.querySelector('video').currentTime > 2), 60000, 'playing');
  await h.sleep(5000); /* let the player settle at its live offset */
  const samples = [], pdt = [];
  for (let i = 0; i < 40; i++) {
    const r = await page.evaluate(({ BITS, BOX, STEP, X0, Y0 }) => {
      const v = document.querySelector('video');
      const c = document.createElement('canvas');
      c.width = v.videoWidth; c.height = v.videoHeight;
      const g = c.getContext('2d');
      g.drawImage(v, 0, 0);
      const now = Date.now();
      let n = 0;
      for (let k = 0; k < BITS; k++) {
        const px = g.getImageData(X0 + k * STEP + BOX / 2, Y0 + BOX / 2, 1, 1).data;
        if (px[0] + px[1] + px[2] > 384) n |= 1 << k;
      }
      const p = window.tcPlayer ? window.tcPlayer.programMs() : NaN;
      return { n, now, pdtLag: now - p };
    }, { BITS, BOX, STEP, X0, Y0 });
    samples.push(r.now - t0 - (r.n * 1000) / FPS);
    if (isFinite(r.pdtLag)) pdt.push(r.pdtLag);
    await h.sleep(250);
  }
  /* Where the time goes before the server: its log stamps the publish. */
  const live = (srv.logTail().match(/(\d\d:\d\d:\d\d\.\d\d\d): publisher live/) || [])[1];
  const epoch = (await srv.json('/api/shows'))[0].epoch_unix_ms;
  console.log(`publish spawned ${new Date(t0).toISOString()}, server "publisher live" ${live} (local time), ` +
    `show epoch (stream_ms 0) ${new Date(epoch).toISOString()}: ${epoch - t0} ms after the spawn`);
  const med = (a) => { const s = a.slice().sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
  /* ffmpeg -re paces frames from when its output opened, i.e. about when
   * the server accepted the publish: counted from there, ffmpeg's own
   * start-up and input probing (not latency a phone would add) drop out. */
  if (live) {
    const d = new Date(t0);
    const [hh, mm, ss] = live.split(':');
    d.setHours(Number(hh), Number(mm), Math.floor(Number(ss)), Math.round((Number(ss) % 1) * 1000));
    t.figure(`glass-to-glass counted from the server accepting the publish: median ${(med(samples) - (d.getTime() - t0)).toFixed(0)} ms ` +
      `(ffmpeg start-up to publish: ${d.getTime() - t0} ms)`);
  }
  const spread = Math.max(...samples) - Math.min(...samples);
  t.figure(`glass-to-glass (frame number burned in, read back in chromium): median ${med(samples).toFixed(0)} ms, ` +
    `min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)} over ${samples.length} reads; segment ${segMs} ms`);
  t.figure(`now - EXT-X-PROGRAM-DATE-TIME of the shown frame: median ${pdt.length ? med(pdt).toFixed(0) : 'n/a'} ms`);
  h.assert(spread < 5000, 'frame numbers read back consistently (spread ' + spread.toFixed(0) + ' ms)');
  await browser.close();
  phone.kill('SIGKILL');
}, servers);
