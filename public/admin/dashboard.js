/*
 * The live dashboard: asks for the admin token (or takes it from #token=… once, then drops it
 * from the address bar), reads GET /admin/summary for the last hour, then follows the private
 * event holdline-ops through holdline.js: every server ticks its numbers into it each second.
 * Charts are uPlot, served by holdline itself.
 */
(function (window, document) {
  'use strict';
  var OPS = 'holdline-ops';
  var LIVE_POINTS = 300;
  var COLOURS = ['#1f883d', '#0969da', '#cf222e', '#8250df', '#bf8700', '#1b7c83', '#d2691e', '#57606a', '#e85aad', '#2f6f3e', '#6639ba', '#953800'];
  var base = location.protocol + '//' + location.host;
  var token = null;
  var hour = {};       // event id → {title, minutes: {at → {viewers, reactions, chat}}}
  var latest = null;   // the last summary or tick
  var live = { t: [], deltas: [], held: [], errors: [] };
  var prev = null;     // the previous summed counters, for per-second rates
  var errorsWindow = [];
  var charts = {};
  var seriesKey = '';
  var client = null;

  function $(id) { return document.getElementById(id); }
  function text(id, v) { $(id).textContent = String(v); }

  function request(path, cb) {
    var xhr = new XMLHttpRequest();
    xhr.open('GET', base + path);
    xhr.setRequestHeader('Authorization', 'Bearer ' + token);
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      cb(xhr.status, body);
    };
    xhr.onerror = function () { cb(0, null); };
    xhr.send();
  }

  function login(message) {
    $('board').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
  }

  function start(t) {
    token = t;
    request('/admin/summary', function (status, body) {
      if (status !== 200) {
        try { sessionStorage.removeItem('holdline-admin-token'); } catch (e) { /* private mode */ }
        login(status === 401 ? 'That token was refused (401).' : status === 403 ? 'That token has no admin scope (403).' : 'The server did not answer (' + status + ').');
        return;
      }
      try { sessionStorage.setItem('holdline-admin-token', t); } catch (e) { /* private mode */ }
      $('login').hidden = true;
      $('board').hidden = false;
      take(body);
      follow();
    });
  }

  /** Folds a summary or a tick into the hour series and the live series, then redraws. */
  function take(s) {
    latest = s;
    var seen = {};
    for (var i = 0; i < s.events.length; i++) {
      var e = s.events[i];
      seen[e.id] = true;
      var h = hour[e.id] || (hour[e.id] = { minutes: {} });
      h.title = e.title;
      for (var m = 0; m < e.minutes.length; m++) h.minutes[e.minutes[m].at] = e.minutes[m];
    }
    for (var id in hour) if (!seen[id]) delete hour[id];
    var sum = { deltas: 0, held: 0, errors: 0, at: s.at };
    var servers = 0;
    for (var name in s.servers) {
      var p = s.servers[name];
      // A server that stopped ticking (gone without saying so) counts no more.
      if (!p || s.at - p.at > 10000) continue;
      servers++;
      for (var k in p.deltas) sum.deltas += p.deltas[k];
      sum.held += p.heldPolls;
      sum.errors += p.responses.serverErrors + (p.answers.error || 0) + p.storeErrors;
    }
    if (prev && sum.at > prev.at) {
      var dt = (sum.at - prev.at) / 1000;
      var rate = Math.max(0, (sum.deltas - prev.deltas) / dt);
      var errs = Math.max(0, (sum.errors - prev.errors) / dt);
      push(sum.at / 1000, rate, sum.held, errs);
      errorsWindow.push({ at: sum.at, n: Math.max(0, sum.errors - prev.errors) });
      text('t-deltas', rate < 10 ? rate.toFixed(1) : Math.round(rate));
    }
    while (errorsWindow.length && errorsWindow[0].at < s.at - 60000) errorsWindow.shift();
    var perMin = 0;
    for (var w = 0; w < errorsWindow.length; w++) perMin += errorsWindow[w].n;
    prev = sum;
    text('t-held', sum.held);
    text('t-errors', perMin);
    text('t-servers', servers);
    text('t-events', s.events.length);
    var viewers = 0;
    for (var v = 0; v < s.events.length; v++) viewers += s.events[v].viewers;
    text('t-viewers', viewers);
    table(s);
    draw();
    text('status', 'Updated ' + new Date(s.at).toLocaleTimeString() + (client ? ' (live over holdline: ' + OPS + ')' : ''));
  }

  function push(t, deltas, held, errors) {
    live.t.push(t); live.deltas.push(deltas); live.held.push(held); live.errors.push(errors);
    if (live.t.length > LIVE_POINTS) { live.t.shift(); live.deltas.shift(); live.held.shift(); live.errors.shift(); }
  }

  function table(s) {
    var body = $('events').getElementsByTagName('tbody')[0];
    var old = {};
    var rows = body.getElementsByTagName('tr');
    for (var r = 0; r < rows.length; r++) old[rows[r].getAttribute('data-event')] = rows[r].getAttribute('data-sig');
    while (body.firstChild) body.removeChild(body.firstChild);
    for (var i = 0; i < s.events.length; i++) {
      var e = s.events[i];
      var last = e.minutes[e.minutes.length - 1] || { reactions: 0, chat: 0 };
      var emoji = [];
      for (var j = 0; j < e.topEmoji.length && j < 3; j++) emoji.push(e.topEmoji[j]);
      var tr = document.createElement('tr');
      var sig = [e.viewers, last.reactions, last.chat].join('|');
      tr.setAttribute('data-event', e.id);
      tr.setAttribute('data-sig', sig);
      if (old[e.id] === undefined || old[e.id] !== sig) tr.className = 'fresh';
      var cells = [null, e.viewers, e.peak, last.reactions, last.chat, null];
      for (var c = 0; c < cells.length; c++) {
        var td = document.createElement('td');
        if (c === 0) {
          td.appendChild(document.createTextNode(e.title + ' '));
          var small = document.createElement('small');
          small.textContent = e.id;
          td.appendChild(small);
        } else if (c === 5) emojiCell(td, emoji);
        else td.textContent = String(cells[c]);
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  /** Top emoji with their counts, drawn as the widget draws them (SVG where no emoji font is installed). */
  function emojiCell(td, top) {
    if (top.length === 0) { td.textContent = '\u2013'; return; }
    for (var i = 0; i < top.length; i++) {
      var span = document.createElement('span');
      span.className = 'emoji';
      // The widget's icon() escapes the emoji itself; the count goes in as text.
      span.innerHTML = window.HoldlineWidget ? window.HoldlineWidget.icon(top[i].emoji) : '';
      if (!window.HoldlineWidget) span.textContent = top[i].emoji;
      span.appendChild(document.createTextNode(' ' + top[i].count));
      td.appendChild(span);
    }
  }

  function hourData(field) {
    var ids = Object.keys(hour).sort();
    var times = {};
    for (var i = 0; i < ids.length; i++) for (var at in hour[ids[i]].minutes) times[at] = true;
    var xs = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
    // Start at the first minute anything happened (at least the last 10): an hour of zeros says nothing.
    var first = 0;
    while (first < xs.length - 10 && !busy(ids, xs[first])) first++;
    xs = xs.slice(first);
    var data = [xs.map(function (x) { return x / 1000; })];
    for (var k = 0; k < ids.length; k++) {
      var mins = hour[ids[k]].minutes;
      data.push(xs.map(function (x) { return mins[x] ? mins[x][field] : 0; }));
    }
    return { ids: ids, data: data };
  }

  // The panel's width, not the chart's: a drawn chart would otherwise keep its box as wide as it was.
  function busy(ids, at) {
    for (var i = 0; i < ids.length; i++) {
      var m = hour[ids[i]].minutes[at];
      if (m && (m.viewers || m.reactions || m.chat)) return true;
    }
    return false;
  }

  function width(el) { return Math.max(240, (el.parentNode.clientWidth || 300) - 28); }

  function chart(id, series, data) {
    var el = $(id);
    var opts = { width: width(el), height: 220, series: [{}].concat(series), axes: [{ space: 80 }, { size: 50 }], legend: { live: false }, scales: { x: { time: true } } };
    if (charts[id]) charts[id].destroy();
    el.innerHTML = '';
    charts[id] = new window.uPlot(opts, data, el);
  }

  function draw() {
    var ids = Object.keys(hour).sort();
    var key = ids.join(',');
    var fields = { 'c-viewers': 'viewers', 'c-reactions': 'reactions', 'c-chat': 'chat' };
    for (var id in fields) {
      var h = hourData(fields[id]);
      if (key !== seriesKey || !charts[id]) {
        chart(id, h.ids.map(function (e, i) { return { label: (hour[e].title || e), stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: false } }; }), h.data);
      } else charts[id].setData(h.data);
    }
    seriesKey = key;
    var liveData = [live.t, live.deltas, live.held, live.errors];
    if (!charts['c-live']) {
      chart('c-live', [
        { label: 'deltas/s', stroke: '#0969da', width: 2, points: { show: false } },
        { label: 'held polls', stroke: '#1f883d', width: 2, points: { show: false } },
        { label: 'errors/s', stroke: '#cf222e', width: 2, points: { show: false } }
      ], liveData);
    } else charts['c-live'].setData(liveData);
  }

  function follow() {
    client = window.Holdline.create({ baseUrl: base, events: [OPS], token: token, kinds: ['score'] });
    client.on('update', function (id, model) {
      var s = model.score;
      if (s && s.events && s.servers && s.at) take({ at: s.at, events: s.events, servers: s.servers });
    });
    client.on('error', function (err) {
      if (err.status === 401 || err.status === 403) { client.stop(); login('The token stopped working (' + err.status + ').'); }
    });
    client.start();
  }

  window.addEventListener('resize', function () {
    for (var id in charts) charts[id].setSize({ width: width($(id)), height: 220 });
  });
  $('login').onsubmit = function (e) {
    e.preventDefault();
    var t = $('token').value.trim();
    if (t) start(t);
  };
  var fromHash = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (fromHash) history.replaceState(null, '', location.pathname + location.search);
  var saved = null;
  try { saved = sessionStorage.getItem('holdline-admin-token'); } catch (e) { /* private mode */ }
  var given = fromHash ? decodeURIComponent(fromHash[1]) : saved;
  if (given) start(given); else login('');
}(window, document));
