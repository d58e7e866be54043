/* common.js — what the viewer page, the leader console and the replay share:
 * DOM building (text only: whatever a user typed goes in through textContent,
 * never innerHTML), the tourcast.v1 WebSocket with reconnect and backoff, the
 * HLS player (native where the browser has it, hls.js otherwise) and the
 * stream_ms of the frame on screen. No build step: plain ES2017. */
'use strict';

var TC = (function () {
  /* el('li', {class: 'x', testid: 'y', text: userText}, child, 'text', ...) */
  function el(tag, attrs) {
    var n = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      var v = a[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'text') n.textContent = String(v);
      else if (k === 'class') n.className = v;
      else if (k === 'testid') n.setAttribute('data-testid', v);
      else if (k.slice(0, 2) === 'on') n.addEventListener(k.slice(2), v);
      else if (k === 'style') throw new Error('no inline style (the CSP refuses it): use a class');
      else if (k === 'value') n.value = v;
      else if (k === 'disabled' || k === 'checked') n[k] = !!v;
      else n.setAttribute(k, v === true ? '' : String(v));
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      n.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return n;
  }

  function $(sel) { return document.querySelector(sel); }
  /* Questions (oldest first) with an older page put before them, each once. */
  function olderFirst(list, page) {
    var have = {};
    list.forEach(function (q) { have[q.id] = true; });
    return (page || []).filter(function (q) { return !have[q.id]; }).concat(list);
  }

  function tid(id) { return document.querySelector('[data-testid="' + id + '"]'); }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); return n; }

  function yuan(cents) { return '¥' + (Number(cents || 0) / 100).toFixed(2); }
  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var m = Math.floor(s / 60);
    return (m < 10 ? '0' : '') + m + ':' + (s % 60 < 10 ? '0' : '') + (s % 60);
  }
  function randomKey() {
    var b = new Uint8Array(9);
    (window.crypto || window.msCrypto).getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }

  var store = {
    get: function (k) { try { return JSON.parse(localStorage.getItem('tc.' + k)); } catch (e) { return null; } },
    set: function (k, v) { try { localStorage.setItem('tc.' + k, JSON.stringify(v)); } catch (e) { /* private mode */ } },
    del: function (k) { try { localStorage.removeItem('tc.' + k); } catch (e) { /* */ } }
  };

  /* ---- the WebSocket ----
   * Room(opts): opts.hello() builds the hello sent on every (re)connect;
   * opts.onmessage(msg), opts.onstate('connecting'|'open'|'closed', attempt).
   * Reconnects by itself: 0.5 s, doubling to 10 s, with jitter; a connection
   * silent for 35 s (pings every 15 s) is taken as dead. */
  function Room(opts) {
    this.opts = opts;
    this.ws = null;
    this.attempt = 0;
    this.greeted = false;
    this.lastRx = 0;
    this.stopped = false;
    var self = this;
    this.pinger = setInterval(function () { self.heartbeat(); }, 5000);
    this.connect();
  }
  Room.prototype.url = function () {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  };
  Room.prototype.connect = function () {
    var self = this;
    if (this.stopped) return;
    this.greeted = false;
    this.opts.onstate('connecting', this.attempt);
    var ws;
    try { ws = new WebSocket(this.url(), 'tourcast.v1'); } catch (e) { this.retry(); return; }
    this.ws = ws;
    ws.onopen = function () {
      self.lastRx = Date.now();
      ws.send(JSON.stringify(self.opts.hello()));
    };
    ws.onmessage = function (ev) {
      self.lastRx = Date.now();
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === 'welcome') { self.greeted = true; self.attempt = 0; self.opts.onstate('open', 0); }
      self.opts.onmessage(m);
    };
    ws.onclose = function () {
      if (self.ws !== ws) return;
      self.ws = null;
      self.greeted = false;
      self.opts.onstate('closed', self.attempt);
      self.retry();
    };
    ws.onerror = function () { /* onclose follows */ };
  };
  Room.prototype.retry = function () {
    var self = this;
    var base = Math.min(10000, 500 * Math.pow(2, this.attempt));
    this.attempt++;
    setTimeout(function () { self.connect(); }, base / 2 + Math.random() * base / 2);
  };
  Room.prototype.heartbeat = function () {
    if (!this.ws || this.ws.readyState !== 1) return;
    var idle = Date.now() - this.lastRx;
    if (idle > 35000) { this.ws.close(); return; }
    if (idle > 15000) this.send({ type: 'ping' });
  };
  /* True if the message went out on a greeted connection. */
  Room.prototype.send = function (m) {
    if (!this.ws || this.ws.readyState !== 1 || (!this.greeted && m.type !== 'hello')) return false;
    this.ws.send(JSON.stringify(m));
    return true;
  };
  /* Closes for good (no reconnect). */
  Room.prototype.stop = function () {
    this.stopped = true;
    clearInterval(this.pinger);
    if (this.ws) { var ws = this.ws; this.ws = null; ws.close(); }
  };
  Room.prototype.reconnectNow = function () {
    if (this.ws) { var ws = this.ws; this.ws = null; ws.close(); }
    this.attempt = 0;
    this.connect();
  };

  /* ---- the player ----
   * attach(video, src, {live}) plays src: native HLS where the browser has
   * it and no MediaSource, hls.js (loaded from /vendor/ only then) otherwise; ?player=hlsjs or
   * ?player=native forces one. Returns a handle whose programMs() is the
   * EXT-X-PROGRAM-DATE-TIME of the frame on screen (unix ms), or NaN. */
  function wantNative(video) {
    var force = new URLSearchParams(location.search).get('player');
    if (force === 'native') return true;
    if (force === 'hlsjs') return false;
    /* Native only where there is no MediaSource for hls.js (iPhone Safari):
     * Chromium plays HLS natively now too, but gives no program date-time
     * (getStartDate() is NaN), and seen_ms needs it. */
    return video.canPlayType('application/vnd.apple.mpegurl') !== '' && !window.MediaSource;
  }

  var loaded = {};
  function loadScript(src) {
    if (loaded[src]) return loaded[src];
    return (loaded[src] = new Promise(function (ok, fail) {
      var s = el('script', { src: src });
      s.onload = ok;
      s.onerror = function (e) { delete loaded[src]; fail(e); };
      document.head.appendChild(s);
    }));
  }

  function attach(video, src, opt) {
    var h = { hls: null, kind: '', src: src, error: '' };
    var live = !!(opt && opt.live);
    h.programMs = function () {
      if (h.hls) {
        var d = h.hls.playingDate;
        return d ? d.getTime() : NaN;
      }
      return h.programMsAt(video.currentTime);
    };
    /* The program date-time (unix ms) of the frame at media time `t`
     * (seconds; a requestVideoFrameCallback's mediaTime): the fragment
     * holding it, its EXT-X-PROGRAM-DATE-TIME plus the offset into it. */
    h.programMsAt = function (t) {
      if (h.dead) return NaN;
      if (h.hls) {
        /* The fragments buffered lately first: a player far behind the
         * live edge shows frames whose fragment left the playlist. */
        var det = h.hls.latestLevelDetails;
        if (!det && h.hls.levels && h.hls.levels.length)
          det = h.hls.levels[Math.max(0, h.hls.currentLevel)].details;
        var fr = h.frags.concat(det ? det.fragments : []);
        for (var i = 0; i < fr.length; i++) {
          var f = fr[i];
          if (f.programDateTime === null || f.programDateTime === undefined) continue;
          if (t + 0.0005 >= f.start && t < f.start + f.duration) return f.programDateTime + (t - f.start) * 1000;
        }
        /* Past the newest listed fragment's end (its duration rounded). */
        var last = det && det.fragments.length ? det.fragments[det.fragments.length - 1] : null;
        if (last && last.programDateTime != null && t >= last.start) return last.programDateTime + (t - last.start) * 1000;
        return NaN;
      }
      var start = video.getStartDate ? video.getStartDate().getTime() : NaN;
      return start + t * 1000;
    };
    /* Stops loading and playing and clears the picture (no frozen frame). */
    h.destroy = function () {
      h.dead = true;
      if (h.timer) clearInterval(h.timer);
      if (h.hls) { h.hls.destroy(); h.hls = null; }
      video.pause();
      video.removeAttribute('src');
      video.load();
    };
    /* Live: a player that fell more than 8 s behind (a stall, a tab in the
     * background) jumps back near the edge. hls.js keeps its own sync. */
    if (live) {
      h.timer = setInterval(function () {
        if (h.hls || video.paused || !video.seekable.length) return;
        var edge = video.seekable.end(video.seekable.length - 1);
        if (edge - video.currentTime > 8) video.currentTime = edge - 3;
      }, 2000);
    }
    if (wantNative(video)) {
      h.kind = 'native';
      video.src = src;
      return Promise.resolve(h);
    }
    return loadScript('/vendor/hls.light.min.js').then(function () {
      if (h.dead) return h;
      if (!window.Hls || !window.Hls.isSupported()) {
        h.kind = 'native';
        video.src = src;
        return h;
      }
      h.kind = 'hlsjs';
      var cfg = live ? { liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6,
        maxLiveSyncPlaybackRate: 1.2, manifestLoadingMaxRetry: 1e6,
        manifestLoadingRetryDelay: 1000, manifestLoadingMaxRetryTimeout: 4000 } : {};
      var hls = new window.Hls(cfg);
      h.hls = hls;
      h.frags = [];
      hls.on(window.Hls.Events.FRAG_BUFFERED, function (ev, data) {
        if (!data.frag || data.frag.programDateTime == null) return;
        h.frags.unshift(data.frag);
        if (h.frags.length > 30) h.frags.pop();
      });
      hls.on(window.Hls.Events.ERROR, function (ev, data) {
        if (!data.fatal || h.dead) return;
        h.error = data.details;
        /* No playlist yet (nobody publishing), or the server restarted:
         * start over in a moment. */
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
        else setTimeout(function () { if (!h.dead) { hls.loadSource(src); hls.startLoad(); } }, 2000);
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      return h;
    }, function () {
      h.kind = 'native';
      video.src = src;
      return h;
    });
  }

  /* Autoplay muted; a tap unmutes (and starts playback where autoplay was
   * refused). `btn` is the overlay button. */
  function autoplay(video, btn) {
    video.muted = true;
    video.playsInline = true;
    function tryPlay() {
      var p = video.play();
      if (p && p.catch) p.catch(function () { btn.textContent = '点击播放'; btn.classList.remove('hidden'); });
    }
    btn.textContent = '点击开启声音';
    btn.addEventListener('click', function () {
      video.muted = false;
      video.play();
      btn.classList.add('hidden');
    });
    video.addEventListener('canplay', tryPlay);
    tryPlay();
  }

  /* ---- following the picture ----
   * FrameSync(video, frameMs): frameMs(mediaTime) is the stream_ms of the
   * frame at that media time (NaN if unknown). at(ms, fn) runs fn when the
   * frame on screen reaches stream_ms `ms`, inside the
   * requestVideoFrameCallback of that frame, so the DOM change is painted
   * with that very frame (rAF and currentTime where there is no rVFC).
   * Changes wait in stream_ms order. With no picture to follow (no
   * program date-time, paused, no new frame for 1.5 s) they apply at once. */
  var SLACK_MS = 8; /* rounding of the ms stamps; a frame is 33 ms */
  var HOLD_MS = 8000; /* a held change waits at most this for the player to start */
  function FrameSync(video, frameMs) {
    var self = this;
    this.video = video;
    this.frameMs = frameMs;
    this.queue = [];
    this.last = null; /* the frame on screen: {ms, mediaTime, t} */
    this.log = [];    /* the last changes applied: {ms, frame_ms, mediaTime, what} */
    if (video.requestVideoFrameCallback) {
      var onFrame = function (now, meta) {
        video.requestVideoFrameCallback(onFrame);
        self.frame(meta.mediaTime);
      };
      video.requestVideoFrameCallback(onFrame);
    } else {
      var lastT = -1;
      var loop = function () {
        requestAnimationFrame(loop);
        if (video.currentTime !== lastT) { lastT = video.currentTime; self.frame(lastT); }
      };
      requestAnimationFrame(loop);
    }
    setInterval(function () { if (!self.following()) self.flush(); }, 500);
  }
  FrameSync.prototype.following = function () {
    var l = this.last;
    return !!l && isFinite(l.ms) && !this.video.paused && performance.now() - l.t < 1500;
  };
  FrameSync.prototype.frame = function (mediaTime) {
    var ms = this.frameMs(mediaTime);
    this.last = { ms: ms, mediaTime: mediaTime, t: performance.now() };
    if (!isFinite(ms)) { this.flush(); return; }
    while (this.queue.length && this.queue[0].ms <= ms + SLACK_MS) this.run(this.queue.shift());
  };
  FrameSync.prototype.run = function (c) {
    var l = this.last || {};
    this.log.push({ ms: c.ms, frame_ms: l.ms, mediaTime: l.mediaTime, what: c.what });
    if (this.log.length > 50) this.log.shift();
    c.fn();
  };
  FrameSync.prototype.flush = function () {
    /* Held changes wait for the player to start (HOLD_MS at most). */
    var now = performance.now(), kept = [];
    while (this.queue.length) {
      var c = this.queue.shift();
      if (c.hold && now - c.t < HOLD_MS) kept.push(c); else this.run(c);
    }
    this.queue = kept;
  };
  /* Runs fn when the frame at stream_ms `ms` is on screen (`what` names it in the log).
   * `hold`: even before the player follows (a page just opened, its player
   * still starting seconds behind the server), wait for that frame. */
  FrameSync.prototype.at = function (ms, fn, what, hold) {
    var c = { ms: typeof ms === 'number' ? ms : -1, fn: fn, what: what || '', hold: !!hold, t: performance.now() };
    if (this.following() ? c.ms <= this.last.ms + SLACK_MS : !hold) { this.run(c); return; }
    var i = this.queue.length;
    while (i > 0 && this.queue[i - 1].ms > c.ms) i--;
    this.queue.splice(i, 0, c);
  };
  FrameSync.prototype.clear = function () { this.queue = []; };
  /* The stream_ms of the frame on screen, or undefined. */
  FrameSync.prototype.now = function () {
    return this.following() ? this.last.ms : undefined;
  };

  /* Name, pickup and phone, asked once. cb(details) on submit.
   * opt.sheet: a bottom sheet (asked when the guest first buys or asks)
   * with opt.title, opt.note, opt.submit and a cancel (opt.oncancel()). */
  function askDetails(cb, errText, opt) {
    opt = opt || {};
    var err = el('div', { class: 'err', text: errText || '' });
    var name = el('input', { name: 'name', maxlength: 32, placeholder: '称呼，如 王小明', required: true, autocomplete: 'name' });
    var pickup = el('input', { name: 'pickup', maxlength: 32, placeholder: '自提点，如 3号楼', required: true });
    var phone = el('input', { name: 'phone', maxlength: 20, placeholder: '手机号', required: true, type: 'tel', autocomplete: 'tel' });
    var box;
    var cancel = opt.sheet ? el('button', { type: 'button', class: 'ghost', testid: 'join-cancel', text: '取消',
      onclick: function () { box.remove(); if (opt.oncancel) opt.oncancel(); } }) : null;
    var submit = el('button', { class: 'primary grow', type: 'submit', testid: 'join-submit', text: opt.submit || '进入直播间' });
    var form = el('form', { testid: 'join' },
      el('h2', { text: opt.title || '进入直播间' }),
      el('div', { class: 'muted', text: opt.note || '只需填写一次，团长按自提点配货。手机号只有团长能看到。' }),
      name, pickup, phone, err,
      cancel ? el('div', { class: 'row' }, cancel, submit) : submit);
    box = el('div', { class: opt.sheet ? 'dialog sheet' : 'dialog' }, form);
    if (opt.sheet) box.addEventListener('click', function (e) { if (e.target === box) cancel.click(); });
    var d0 = opt.details || {};
    if (d0.name) name.value = d0.name;
    if (d0.pickup) pickup.value = d0.pickup;
    if (d0.phone) phone.value = d0.phone;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var d = { name: name.value.trim(), pickup: pickup.value.trim(), phone: phone.value.trim() };
      if (!d.name || !d.pickup) { err.textContent = '请填写称呼和自提点'; return; }
      if (!/^\+?[0-9 -]{5,20}$/.test(d.phone) || d.phone.replace(/\D/g, '').length < 5) {
        err.textContent = '请填写正确的手机号';
        return;
      }
      box.remove();
      cb(d);
    });
    document.body.appendChild(box);
    name.focus();
  }

  return { el: el, $: $, tid: tid, olderFirst: olderFirst, clear: clear, yuan: yuan, clock: clock, randomKey: randomKey,
    store: store, Room: Room, attach: attach, autoplay: autoplay, askDetails: askDetails, FrameSync: FrameSync };
})();
