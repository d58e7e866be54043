/* leader.js — the leader console `/leader`: products (create, edit, on/off
 * sale), pin with one tap, live orders by pickup point, questions to answer
 * and put on screen, viewer count, publisher health, end show, picking list.
 * The token comes as ?token= once and is kept in this browser. */
'use strict';

(function () {
  var params = new URLSearchParams(location.search);
  if (params.get('token')) {
    TC.store.set('leader_token', params.get('token'));
    /* Out of the address bar (and of screenshots), kept in localStorage. */
    history.replaceState(null, '', '/leader');
  }
  var products = {}, order = [], pinned = null, orders = [], ordersTotal = 0;
  var questions = [], highlight = null, show = null, connState = 'connecting', room = null;

  var video = TC.tid('video');
  TC.attach(video, '/live/index.m3u8', { live: true });
  TC.autoplay(video, TC.$('#tap'));
  TC.$('#tap').classList.add('hidden');

  function send(m) {
    if (!room || !room.send(m)) { setStatus('未连接，操作没有发出，请稍后再试'); return false; }
    return true;
  }

  function setStatus(extra) {
    var box = TC.tid('status');
    var state = connState !== 'open' ? 'reconnecting' : !show ? 'waiting' : show.ended_unix_ms ? 'ended' : 'ok';
    var text = { reconnecting: '与服务器的连接断开，正在重连…', waiting: '没有进行中的直播：手机开始推流或点“开始直播”',
      ended: '本场直播已结束', ok: '直播中' }[state];
    box.dataset.state = state;
    box.className = 'status ' + (state === 'ok' && !extra ? 'ok' : state === 'reconnecting' ? 'bad' : '');
    box.textContent = extra || text;
    TC.$('#begin').classList.toggle('hidden', !(connState === 'open' && (!show || show.ended_unix_ms)));
    var csv = TC.$('#csv');
    csv.classList.toggle('hidden', !show);
    if (show) csv.href = '/api/shows/' + show.id + '/orders.csv?token=' + encodeURIComponent(TC.store.get('leader_token') || '');
    if (show) TC.$('#title').textContent = show.title + (show.ended_unix_ms ? '（已结束）' : '');
  }

  /* ---- products ---- */
  function putProduct(p) {
    if (!products[p.id]) order.push(p.id);
    products[p.id] = p;
  }

  function renderProducts() {
    var ul = TC.clear(TC.$('#products'));
    if (!order.length) ul.appendChild(TC.el('li', { class: 'muted', text: '还没有商品，在下面新建' }));
    order.forEach(function (id) {
      var p = products[id], on = id === pinned;
      ul.appendChild(TC.el('li', { class: on ? 'on' : '', 'data-product': id },
        p.image ? TC.el('img', { class: 'thumb', src: p.image, alt: '' }) : null,
        TC.el('div', { class: 'name' },
          TC.el('div', { text: p.name }),
          TC.el('div', { class: 'muted', text: TC.yuan(p.price_cents) + (p.unit ? '/' + p.unit : '') + ' · 库存 ' + p.stock +
            ' · 已售 ' + p.sold + (p.limit_per_buyer ? ' · 限购 ' + p.limit_per_buyer : '') + (p.on_sale ? '' : ' · 未开售') })),
        TC.el('button', { type: 'button', class: 'ghost', text: '编辑', onclick: function () { edit(id); } }),
        TC.el('button', { type: 'button', class: 'ghost', text: p.on_sale ? '下架' : '上架',
          onclick: function () { send({ type: 'product.put', id: id, on_sale: !p.on_sale }); } }),
        TC.el('button', { type: 'button', class: on ? 'primary' : '', testid: 'pin-' + id, text: on ? '取消讲解' : '讲解',
          onclick: function () { window.tcPinTapAt = performance.timeOrigin + performance.now(); send({ type: 'pin', product_id: on ? null : id }); } })));
    });
  }

  var form = TC.$('#pform'), fe = form.elements;
  function edit(id) {
    var p = products[id];
    fe.id.value = id;
    fe.name.value = p.name;
    fe.price.value = (p.price_cents / 100).toFixed(2);
    fe.unit.value = p.unit || '';
    fe.stock.value = p.stock;
    fe.limit.value = p.limit_per_buyer;
    fe.on_sale.checked = p.on_sale;
    TC.$('#pform-title').textContent = '编辑：' + p.name;
    form.scrollIntoView({ block: 'nearest' });
  }
  function resetForm() {
    form.reset();
    fe.id.value = '';
    TC.$('#pform-title').textContent = '新建商品';
    TC.$('#perr').textContent = '';
  }
  TC.$('#pnew').addEventListener('click', resetForm);

  var pendingImage = null; /* a file waiting for the product it belongs to */
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var err = TC.$('#perr');
    var price = Math.round(parseFloat(fe.price.value) * 100);
    var m = { type: 'product.put', name: fe.name.value.trim(), on_sale: fe.on_sale.checked };
    if (!m.name || !isFinite(price) || price < 0) { err.textContent = '请填写名称和价格'; return; }
    m.price_cents = price;
    if (fe.unit.value.trim()) m.unit = fe.unit.value.trim();
    if (fe.stock.value !== '') m.stock = parseInt(fe.stock.value, 10);
    if (fe.limit.value !== '') m.limit_per_buyer = parseInt(fe.limit.value, 10);
    if (fe.id.value) m.id = Number(fe.id.value);
    m.ref = 'p-' + TC.randomKey();
    var file = fe.image.files[0];
    if (file) pendingImage = { file: file, id: m.id, ref: m.ref, name: m.name };
    if (send(m)) resetForm();
  });

  /* The protocol has no image upload yet: a server that has
   * POST /api/products/ID/image (the image as the body) gets it, and
   * answers with the product's new image URL in a `product` broadcast. */
  function uploadImage(id, file) {
    fetch('/api/products/' + id + '/image?token=' + encodeURIComponent(TC.store.get('leader_token') || ''),
      { method: 'POST', body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' } })
      .then(function (r) {
        if (r.ok) return;
        return r.json().catch(function () { return {}; }).then(function (j) {
          var why = { 403: '口令不对', 413: '图片太大（最多 2 MB）', 415: '只支持 JPG 和 PNG', 400: '图片文件损坏' }[r.status];
          throw new Error(why || j.message || String(r.status));
        });
      })
      .catch(function (e) { TC.$('#perr').textContent = '图片没有上传：' + e.message; });
  }

  /* ---- orders, grouped by pickup point ---- */
  function renderOrders() {
    var box = TC.clear(TC.tid('orders'));
    TC.$('#ototal').textContent = ordersTotal ? '共 ' + ordersTotal + ' 单' : '';
    if (!orders.length) { box.appendChild(TC.el('div', { class: 'muted', text: '还没有订单' })); return; }
    var groups = {}, names = [];
    orders.forEach(function (o) {
      if (!groups[o.pickup]) { groups[o.pickup] = []; names.push(o.pickup); }
      groups[o.pickup].push(o);
    });
    names.sort();
    names.forEach(function (pick) {
      var list = groups[pick], cents = 0, units = 0;
      list.forEach(function (o) {
        var p = products[o.product_id];
        cents += (p ? p.price_cents : 0) * o.qty;
        units += o.qty;
      });
      var ul = TC.el('ul', { class: 'orders' });
      list.slice().reverse().forEach(function (o) {
        var p = products[o.product_id];
        ul.appendChild(TC.el('li', { 'data-order': o.order_id },
          TC.el('span', { text: o.name + ' ' }), TC.el('span', { class: 'muted', text: o.phone + ' ' }),
          TC.el('span', { text: (p ? p.name : '商品 #' + o.product_id) + ' ×' + o.qty }),
          TC.el('span', { class: 'muted', text: ' #' + o.order_id })));
      });
      box.appendChild(TC.el('div', { class: 'group', 'data-pickup': pick },
        TC.el('h3', { text: pick + ' · ' + list.length + ' 单 · ' + units + ' 件 · ' + TC.yuan(cents) }), ul));
    });
  }

  /* ---- questions ---- */
  function renderQuestions() {
    var ul = TC.clear(TC.tid('questions'));
    if (!questions.length) ul.appendChild(TC.el('li', { class: 'muted', text: '还没有提问' }));
    questions.slice(-200).reverse().forEach(function (q) {
      var input = TC.el('input', { class: 'grow', testid: 'answer-input-' + q.id, maxlength: 280, placeholder: q.answer ? '修改回答' : '回答' });
      var on = q.id === highlight;
      ul.appendChild(TC.el('li', { class: on ? 'hl' : '', 'data-qid': q.id },
        TC.el('span', { class: 'who', text: q.name }), TC.el('span', { text: q.text }),
        q.answer ? TC.el('div', { class: 'ans', text: '已答：' + q.answer }) : null,
        TC.el('div', { class: 'row', style: 'margin-top:4px' }, input,
          TC.el('button', { type: 'button', testid: 'answer-' + q.id, text: '回答', onclick: function () {
            var t = input.value.trim();
            if (t && send({ type: 'answer', question_id: q.id, text: t })) input.value = '';
          } }),
          TC.el('button', { type: 'button', class: on ? 'primary' : 'ghost', testid: 'highlight-' + q.id, text: on ? '下屏' : '上屏',
            onclick: function () { send({ type: 'highlight', question_id: on ? null : q.id }); } }))));
    });
  }

  function onMessage(m) {
    switch (m.type) {
      case 'welcome':
        show = m.show; pinned = m.pinned; highlight = m.highlight;
        products = {}; order = [];
        (m.products || []).forEach(putProduct);
        orders = (m.orders || []).slice().reverse(); /* oldest first */
        ordersTotal = m.orders_total || orders.length;
        questions = m.questions || [];
        TC.tid('viewer-count').textContent = m.viewers + ' 人在看';
        if (m.stream) renderStream(m.stream);
        renderProducts(); renderOrders(); renderQuestions(); setStatus();
        break;
      case 'product':
        putProduct(m.product);
        if (pendingImage && (pendingImage.id === m.product.id || (!pendingImage.id && pendingImage.name === m.product.name))) {
          uploadImage(m.product.id, pendingImage.file);
          pendingImage = null;
        }
        renderProducts();
        break;
      case 'stock':
        if (products[m.product_id]) { products[m.product_id].stock = m.stock; products[m.product_id].sold = m.sold; }
        renderProducts();
        break;
      case 'pinned': pinned = m.product_id; renderProducts(); break;
      case 'order.new':
        m.orders.forEach(function (o) { orders.push(o); ordersTotal++; });
        if (orders.length > 2000) orders = orders.slice(-2000);
        renderOrders();
        break;
      case 'question': questions.push(m); renderQuestions(); break;
      case 'answer':
        questions.forEach(function (q) { if (q.id === m.question_id) q.answer = m.text; });
        renderQuestions();
        break;
      case 'highlight': highlight = m.question_id; renderQuestions(); break;
      case 'viewers': TC.tid('viewer-count').textContent = m.count + ' 人在看'; break;
      case 'show': show = m.show; setStatus(); break;
      case 'stream': renderStream(m); break;
      case 'restream.added': case 'restream.removed': setStatus(); break;
      case 'error':
        if (!room.greeted && m.code === 'forbidden') { TC.store.del('leader_token'); askToken('口令不对，请重新输入'); return; }
        TC.$('#perr').textContent = m.ref && String(m.ref).slice(0, 2) === 'p-' ? '没有保存：' + m.message : '';
        setStatus('操作没有成功：' + (m.message || m.code));
        break;
    }
  }

  /* ---- publisher health from /metrics (public, Prometheus text) ---- */
  var lastMetrics = null;
  function parseMetrics(text) {
    var out = {};
    text.split('\n').forEach(function (l) {
      if (!l || l[0] === '#') return;
      var i = l.lastIndexOf(' ');
      out[l.slice(0, i)] = Number(l.slice(i + 1));
    });
    return out;
  }
  var streamSeen = 0; /* when the server's own stream status last came */
  function pollHealth() {
    if (Date.now() - streamSeen < 5000) return; /* the server tells us itself */
    fetch('/metrics', { cache: 'no-store' }).then(function (r) { return r.text(); }).then(function (t) {
      var now = { t: Date.now(), m: parseMetrics(t) }, m = now.m, box = TC.$('#health');
      var live = m.tourcast_publisher_live === 1, parts = [live ? '手机推流中' : '手机未连接'];
      if (lastMetrics && live) {
        var dt = (now.t - lastMetrics.t) / 1000;
        var kbps = ((m.tourcast_rtmp_bytes_in_total || 0) - (lastMetrics.m.tourcast_rtmp_bytes_in_total || 0)) * 8 / 1000 / dt;
        var fps = ((m.tourcast_frames_out_total || 0) - (lastMetrics.m.tourcast_frames_out_total || 0)) / dt;
        parts.push('码率 ' + Math.max(0, Math.round(kbps)) + ' kbit/s', '帧率 ' + Math.max(0, fps).toFixed(0));
      }
      var sessions = m.tourcast_pipeline_sessions_total || 0;
      parts.push('重连 ' + Math.max(0, sessions - 1) + ' 次');
      if (isFinite(m.tourcast_stream_ms)) parts.push('时长 ' + TC.clock(m.tourcast_stream_ms));
      box.textContent = parts.join(' · ');
      box.dataset.live = live ? '1' : '0';
      lastMetrics = now;
    }).catch(function () {});
  }
  setInterval(pollHealth, 2000);
  pollHealth();

  /* {"publisher":{live, on_air_live, input_kbps, input_fps, frames_dropped,
   *  frames_late, reconnects}, "restream":[{url, state, failures, error}]},
   * in the welcome and once a second. */
  function renderStream(s) {
    streamSeen = Date.now();
    var p = s.publisher || {}, box = TC.$('#health');
    var parts = [p.live ? '手机推流中' : '手机未连接（观众看到“信号重连中”）'];
    if (p.live) parts.push('码率 ' + Math.round(p.input_kbps || 0) + ' kbit/s', '帧率 ' + Math.round(p.input_fps || 0));
    parts.push('重连 ' + (p.reconnects || 0) + ' 次');
    if (p.frames_dropped || p.frames_late) parts.push('丢帧 ' + (p.frames_dropped || 0) + ' · 迟到 ' + (p.frames_late || 0));
    box.textContent = parts.join(' · ');
    box.dataset.live = p.live ? '1' : '0';
    renderRestream(s.restream || []);
  }

  var RESTREAM_STATE = { live: '推流中', connecting: '连接中', retrying: '重试中', failed: '失败', stopped: '已停止' };
  function renderRestream(targets) {
    var box = TC.clear(TC.$('#restream'));
    if (!targets.length) { box.textContent = '未配置转推'; return; }
    targets.forEach(function (t) {
      box.appendChild(TC.el('div', { class: 'row', 'data-restream': t.url },
        TC.el('span', { class: 'grow', text: t.url + ' · ' + (RESTREAM_STATE[t.state] || t.state) +
          (t.failures ? ' · 失败 ' + t.failures + ' 次' : '') }),
        TC.el('button', { testid: 'restream-remove', text: '移除',
          onclick: function () { send({ type: 'restream.remove', url: t.url }); } })));
    });
  }
  TC.$('#restream').textContent = '转推：读取中…';
  TC.$('#rform').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = e.target.elements.url, url = input.value.trim();
    if (!/^rtmps?:\/\//.test(url)) { setStatus('转推地址要以 rtmp:// 或 rtmps:// 开头'); return; }
    send({ type: 'restream.add', url: url });
    input.value = '';
  });

  TC.$('#end').addEventListener('click', function () {
    if (!show || show.ended_unix_ms) return;
    if (window.confirm('确定结束本场直播吗？结束后观众只能看回放。')) send({ type: 'show.end' });
  });
  TC.$('#begin').addEventListener('click', function () { send({ type: 'show.begin' }); });

  function start() {
    if (room) { room.reconnectNow(); return; }
    room = new TC.Room({
      hello: function () { return { type: 'hello', role: 'leader', token: TC.store.get('leader_token') || '' }; },
      onmessage: onMessage,
      onstate: function (s) { connState = s; setStatus(); }
    });
    window.tcRoom = room;
  }

  function askToken(errText) {
    var input = TC.el('input', { type: 'password', placeholder: '团长口令（启动时打印，也在 tourcast-data/leader_token）', required: true });
    var f = TC.el('form', {}, TC.el('h2', { text: '团长登录' }), input, TC.el('div', { class: 'err', text: errText || '' }),
      TC.el('button', { class: 'primary', type: 'submit', text: '进入控制台' }));
    var box = TC.el('div', { class: 'dialog' }, f);
    f.addEventListener('submit', function (e) {
      e.preventDefault();
      TC.store.set('leader_token', input.value.trim());
      box.remove();
      start();
    });
    document.body.appendChild(box);
    input.focus();
  }

  if (TC.store.get('leader_token')) start();
  else askToken();
})();
