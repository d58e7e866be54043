/* harness.js — the real tourcast binary, a real publisher and Debian's
 * chromium for the browser tests (Node, playwright-core; no browser is ever
 * downloaded). Free ports on 127.0.0.1 picked by the kernel, a fresh data dir,
 * the server's log printed when a test fails. */
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

const SOURCE_DIR = process.env.TOURCAST_SOURCE_DIR || path.join(__dirname, '..', '..');
const BUILD_DIR = process.env.TOURCAST_BUILD_DIR || path.join(SOURCE_DIR, 'build');
const OUT_DIR = process.env.TOURCAST_TEST_OUTPUT || path.join(BUILD_DIR, 'test-output', 'browser');
const CHROMIUM = process.env.TOURCAST_CHROMIUM || '/usr/bin/chromium';
const TOKEN = 'leadertoken123';
const KEY = 'testkey123';

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

function get(url, timeout = 5000) {
  return new Promise((ok, fail) => {
    const req = http.get(url, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.setTimeout(timeout, () => req.destroy(new Error('timeout ' + url)));
  });
}

async function waitFor(pred, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try { last = await pred(); if (last) return last; } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error('timed out waiting for ' + what + (last instanceof Error ? ': ' + last.message : ''));
}

/* One tourcast process; restart() brings it back on the same ports and data. */
class Server {
  constructor(extra = []) {
    this.extra = extra;
    this.data = fs.mkdtempSync(path.join(os.tmpdir(), 'tourcast-browser-'));
    this.logPath = path.join(this.data, 'server.log');
  }
  async start() {
    if (!this.httpPort) { this.httpPort = await freePort(); this.rtmpPort = await freePort(); }
    const args = ['--data', this.data, '--bind', '127.0.0.1', '--http-port', String(this.httpPort),
      '--rtmp-port', String(this.rtmpPort), '--stream-key', KEY, '--leader-token', TOKEN, ...this.extra];
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(path.join(BUILD_DIR, 'tourcast'), args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.exited = new Promise((ok) => this.proc.on('exit', (code, sig) => ok({ code, sig })));
    await waitFor(async () => {
      if (this.proc.exitCode !== null) throw new Error('tourcast exited early');
      return (await get(this.url('/healthz'))).status === 200;
    }, 60000, 'tourcast /healthz');
    return this;
  }
  url(p) { return `http://127.0.0.1:${this.httpPort}${p}`; }
  get rtmpUrl() { return `rtmp://127.0.0.1:${this.rtmpPort}/live/${KEY}`; }
  async json(p) { const r = await get(this.url(p)); return JSON.parse(r.body.toString()); }
  async kill9() { this.proc.kill('SIGKILL'); await this.exited; }
  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 30000);
    await this.exited;
    clearTimeout(t);
  }
  logTail() {
    try { return fs.readFileSync(this.logPath, 'utf8').slice(-6000); } catch (e) { return ''; }
  }
}

/* scripts/fake-phone.sh publishing to url (ffmpeg, real time). */
function fakePhone(url, ...opts) {
  const p = spawn(path.join(SOURCE_DIR, 'scripts', 'fake-phone.sh'), [...opts, url], { stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderrText = '';
  p.stderr.on('data', (d) => { p.stderrText += d; });
  return p;
}

function makeClip(...opts) {
  const { execFileSync } = require('child_process');
  return execFileSync(path.join(SOURCE_DIR, 'scripts', 'fake-phone.sh'), ['-k', ...opts]).toString().trim();
}

const browsers = [];
async function launchChromium() {
  const { chromium } = require(path.join(SOURCE_DIR, 'node_modules', 'playwright-core'));
  if (!fs.existsSync(CHROMIUM)) throw new Error(CHROMIUM + ' missing: scripts/setup.sh installs Debian\'s chromium');
  const b = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
  });
  browsers.push(b);
  return b;
}

/* A page whose uncaught exceptions, Content-Security-Policy violations and
 * dialogs (alert!) are collected: a test asserts they stayed empty. Every
 * request URL the page makes is kept (page.requests). `opts.bypassCSP`: a
 * test's own tool page (room.js), not one of tourcast's. */
async function newPage(browser, viewport, opts = {}) {
  const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'zh-CN', bypassCSP: !!opts.bypassCSP });
  const page = await ctx.newPage();
  page.problems = [];
  page.dialogs = [];
  page.cspViolations = [];
  page.requests = [];
  await page.exposeFunction('tcCspViolation', (v) => {
    page.cspViolations.push(v);
    page.problems.push('CSP violation: ' + v);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.tcCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
    });
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/.test(m.text())) page.problems.push('console: ' + m.text());
  });
  page.on('request', (r) => page.requests.push(r.url()));
  page.on('pageerror', (e) => page.problems.push('pageerror: ' + e.message + ' ' + (e.stack || '').split('\n').slice(1, 4).join(' / ')));
  page.on('dialog', (d) => { page.dialogs.push(d.type() + ': ' + d.message()); d.accept().catch(() => {}); });
  return page;
}

/* Named checks; the first failure stops the test with the server's log. */
class Checks {
  constructor(name) { this.name = name; this.figures = []; fs.mkdirSync(OUT_DIR, { recursive: true }); }
  async step(what, fn) {
    const t0 = Date.now();
    await fn();
    console.log(`ok   ${what} (${Date.now() - t0} ms)`);
  }
  figure(line) { this.figures.push(line); console.log('FIGURE ' + line); }
  async shot(page, name) {
    const file = path.join(OUT_DIR, name + '.png');
    await page.screenshot({ path: file, fullPage: false });
    console.log('screenshot ' + file);
  }
}

function assert(cond, msg) { if (!cond) throw new Error('assertion failed: ' + msg); }

async function main(name, body, servers) {
  const checks = new Checks(name);
  let code = 0;
  try {
    await body(checks);
  } catch (e) {
    code = e.skip ? 77 : 1;
    console.log((e.skip ? 'SKIP ' : 'FAIL ') + (e.stack || e));
    if (!e.skip) for (const s of servers) console.log('--- server log ---\n' + s.logTail());
  }
  for (const b of browsers) await b.close().catch(() => {});
  for (const s of servers) await s.stop().catch(() => {});
  process.exit(code);
}

module.exports = { Server, fakePhone, makeClip, launchChromium, newPage, waitFor, sleep, get, assert, main, TOKEN, OUT_DIR, SOURCE_DIR };
