/*!
 * holdline.js: the browser client for holdline's long-polling protocol (docs/PROTOCOL.md).
 * One file, no build step, no dependencies, ES5 syntax: runs in old browsers as it is.
 *
 *   var client = Holdline.create({ baseUrl: 'https://live.example.com', events: ['m1'] });
 *   client.on('score', function (eventId, delta, model) { draw(model.score); });
 *   client.start();
 *
 * Everything the loop touches outside itself (transport, timers, randomness, clock, document,
 * window) can be injected, so the loop is unit-tested in Node without a browser.
 */
(function (root, factory) {
  var Holdline = factory(root);
  if (typeof module === 'object' && module && module.exports) module.exports = Holdline;
  if (root) root.Holdline = Holdline;
}(typeof self !== 'undefined' ? self : this, function (root) {
  'use strict';

  var VERSION = '1.0.0';
  var DEFAULT_HOLD_MS = 25000;
  // The protocol asks clients to give up on a poll this long after the server's hold.
  var HOLD_GRACE_MS = 10000;
  var WRITE_TIMEOUT_MS = 15000;
  var MAX_SUBS = 16;
  var jsonpCounter = 0;

  function isArray(v) { return Object.prototype.toString.call(v) === '[object Array]'; }
  function has(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }
  function isObject(v) { return v !== null && typeof v === 'object' && !isArray(v); }
  function enc(v) { return encodeURIComponent(String(v)); }

  /** RFC 7396 JSON merge patch: the score deltas with op "patch" are these. */
  function mergePatch(target, patch) {
    if (!isObject(patch)) return patch;
    var out = {};
    var k;
    if (isObject(target)) for (k in target) if (has(target, k)) out[k] = target[k];
    for (k in patch) {
      if (!has(patch, k)) continue;
      if (patch[k] === null) delete out[k];
      else out[k] = mergePatch(out[k], patch[k]);
    }
    return out;
  }

  /**
   * The delay before retry number `attempt` (0-based): exponential, capped, with "equal
   * jitter" so a crowd of clients cut off together does not come back together, while every
   * client still waits at least half the step.
   */
  function backoffDelay(attempt, baseMs, maxMs, random) {
    var step = Math.min(maxMs, baseMs * Math.pow(2, Math.min(attempt, 30)));
    return Math.round(step / 2 + random() * step / 2);
  }

  /** Retry-After as milliseconds (seconds or an HTTP date), or null when absent or unreadable. */
  function retryAfterMs(value, now) {
    if (value === null || value === undefined || value === '') return null;
    if (/^\s*\d+\s*$/.test(String(value))) return parseInt(value, 10) * 1000;
    var at = Date.parse(String(value));
    return isNaN(at) ? null : Math.max(0, at - now);
  }

  /**
   * Whether a failed XHR should be retried over JSONP: only an undecided cross-origin client,
   * only on status 0 (what a browser reports when CORS refuses the page), and only before any
   * XHR ever succeeded (after one did, status 0 means the network or the server is down).
   */
  function shouldTryJsonp(s) {
    return s.option === 'auto' && s.mode === 'xhr' && s.status === 0 && !s.xhrEverOk && !s.sameOrigin;
  }

  function decodeBase64(s) {
    var chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    var out = '';
    var bits = 0;
    var value = 0;
    for (var i = 0; i < s.length; i++) {
      var c = chars.indexOf(s.charAt(i));
      if (c < 0) continue;
      value = (value << 6) | c;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += String.fromCharCode((value >> bits) & 0xff);
      }
    }
    return out;
  }

  /** A JWT's `exp` in ms since epoch, or null: the client never verifies tokens, it only plans refreshes. */
  function tokenExpiry(token) {
    var parts = String(token).split('.');
    if (parts.length !== 3) return null;
    try {
      var claims = JSON.parse(decodeBase64(parts[1].replace(/-/g, '+').replace(/_/g, '/')));
      return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
    } catch (e) {
      return null;
    }
  }

  /** The screen-ready state of one event, built from a snapshot and kept by the deltas. */
  function modelFromSnapshot(eventId, snap) {
    var totals = {};
    var src = (snap.reactions && snap.reactions.totals) || {};
    for (var k in src) if (has(src, k)) totals[k] = src[k];
    return {
      event: eventId,
      meta: snap.meta || {},
      state: snap.state,
      score: snap.score || {},
      chat: (snap.chat || []).slice(),
      notices: [],
      reactions: { totals: totals, samples: [] },
      viewers: null,
      seq: snap.seq,
      cursor: null,
      ended: snap.state === 'ended'
    };
  }

  /** Folds one delta into a model, as the server folds it into a snapshot. */
  function applyDelta(m, d, chatLimit) {
    var i;
    if (d.kind === 'score') {
      m.score = d.op === 'patch' ? mergePatch(m.score, d.data) : d.data;
    } else if (d.kind === 'notice') {
      m.notices.push({ seq: d.seq, ts: d.ts, type: d.type, title: d.data.title, body: d.data.body, level: d.data.level || 'info' });
      if (m.notices.length > 20) m.notices.shift();
    } else if (d.kind === 'chat') {
      if (d.op === 'delete') {
        for (i = m.chat.length - 1; i >= 0; i--) if (m.chat[i].id === d.id) m.chat.splice(i, 1);
      } else {
        m.chat.push({ id: d.id, user: d.user, text: d.text, ts: d.ts, seq: d.seq });
        if (m.chat.length > chatLimit) m.chat.splice(0, m.chat.length - chatLimit);
      }
    } else if (d.kind === 'reactions') {
      for (var e in d.counts) if (has(d.counts, e)) m.reactions.totals[e] = (m.reactions.totals[e] || 0) + d.counts[e];
      m.reactions.samples = d.samples || [];
    } else if (d.kind === 'status') {
      m.state = d.data.state;
      if (d.data.meta) m.meta = d.data.meta;
      if (d.data.state === 'ended') m.ended = true;
    }
    m.seq = d.seq;
  }

  function randomId(random) {
    var s = 'v-';
    for (var i = 0; i < 12; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'.charAt(Math.floor(random() * 36));
    return s;
  }

  function parseJson(text) {
    if (!text) return null;
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  /** XHR: the default transport where CORS works (same origin, or an allowed origin). */
  function xhrRequest(req, done) {
    var xhr = new root.XMLHttpRequest();
    var finished = false;
    function finish(res) {
      if (finished) return;
      finished = true;
      done(res);
    }
    xhr.open(req.method, req.url, true);
    for (var h in req.headers) if (has(req.headers, h)) xhr.setRequestHeader(h, req.headers[h]);
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4 || finished) return;
      var retryAfter = null;
      try { retryAfter = xhr.getResponseHeader('Retry-After'); } catch (e) { retryAfter = null; }
      finish({ status: xhr.status, body: parseJson(xhr.responseText), retryAfter: retryAfter });
    };
    xhr.onerror = function () { finish({ status: 0, body: null, retryAfter: null }); };
    xhr.send(req.body === null ? null : req.body);
    return { abort: function () { finished = true; try { xhr.abort(); } catch (e) { /* already gone */ } } };
  }

  /** JSONP: a script tag for pages whose origin the server does not allow (GET only). */
  function jsonpRequest(req, done) {
    var doc = root.document;
    var name = 'holdline_cb_' + (++jsonpCounter);
    var script = doc.createElement('script');
    var finished = false;
    function cleanup() {
      if (script.parentNode) script.parentNode.removeChild(script);
      script.onload = script.onerror = script.onreadystatechange = null;
      // A script aborted mid-load may still run later: leave a no-op where it will call.
      root[name] = function () {};
    }
    function finish(res) {
      if (finished) return;
      finished = true;
      cleanup();
      done(res);
    }
    root[name] = function (body) {
      var status = body && typeof body.status === 'number' ? body.status : 200;
      finish({ status: status, body: body, retryAfter: null });
    };
    // Loaded without calling back (not JavaScript, or refused): as good as a network error.
    script.onload = script.onerror = function () { finish({ status: 0, body: null, retryAfter: null }); };
    script.onreadystatechange = function () {
      if (script.readyState === 'loaded' || script.readyState === 'complete') script.onload();
    };
    script.async = true;
    script.src = req.url + (req.url.indexOf('?') < 0 ? '?' : '&') + 'callback=' + name;
    (doc.getElementsByTagName('head')[0] || doc.documentElement).appendChild(script);
    return { abort: function () { finished = true; cleanup(); } };
  }

  function browserTransport(req, done) {
    return req.mode === 'jsonp' ? jsonpRequest(req, done) : xhrRequest(req, done);
  }

  function originOf(url) {
    var m = /^([a-z][a-z0-9+.-]*:\/\/[^\/?#]+)/i.exec(url);
    return m ? m[1].toLowerCase() : null;
  }

  /**
   * One client: follows up to 16 events in one held request (GET /poll?subs=...), keeps their
   * cursors and models, and emits what changed.
   */
  function Client(o) {
    if (!o || typeof o.baseUrl !== 'string') throw new Error('Holdline.create needs { baseUrl }');
    var self = this;
    var win = has(o, 'window') ? o.window : (root && root.addEventListener ? root : null);
    this._base = o.baseUrl.replace(/\/+$/, '');
    this._transport = o.transport || browserTransport;
    this._setTimeout = o.setTimeout || function (f, ms) { return setTimeout(f, ms); };
    this._clearTimeout = o.clearTimeout || function (t) { clearTimeout(t); };
    this._random = o.random || Math.random;
    this._now = o.now || function () { return new Date().getTime(); };
    this._option = o.mode || 'auto';
    this._mode = this._option === 'jsonp' ? 'jsonp' : 'xhr';
    var pageOrigin = win && win.location ? originOf(String(win.location.href)) : null;
    this._sameOrigin = has(o, 'sameOrigin') ? !!o.sameOrigin : (pageOrigin !== null && pageOrigin === originOf(this._base));
    if (this._option === 'auto' && !o.transport && !this._sameOrigin && !(root && root.XMLHttpRequest && 'withCredentials' in new root.XMLHttpRequest())) {
      this._mode = 'jsonp'; // no CORS in this browser at all: do not even try
    }
    this._xhrEverOk = false;
    this._token = o.token || null;
    this._getToken = o.getToken || null;
    this._viewer = o.viewer || randomId(this._random);
    this._kinds = o.kinds ? [].concat(o.kinds).join(',') : null;
    this._types = o.types ? [].concat(o.types).join(',') : null;
    this._baseMs = (o.backoff && o.backoff.baseMs) || 1000;
    this._maxMs = (o.backoff && o.backoff.maxMs) || 30000;
    this._endedRecheckMs = o.endedRecheckMs || 60000;
    this._chatLimit = o.chatLimit || 50;
    this._holdMs = DEFAULT_HOLD_MS;
    this._handlers = {};
    this._subs = {};
    this._order = [];
    this._attempt = 0;
    this._timer = null;
    this._wakeTimer = null;
    this._refreshTimer = null;
    this._current = null;
    this._reqSeq = 0;
    this._tokenWaiters = null;
    this._retried401 = false;
    this._askedFirstToken = false;
    this._running = false;
    this._paused = false;
    this.state = 'idle';
    this.stats = { polls: 0, deltas: 0, duplicates: 0, resets: 0, errors: 0 };
    var events = o.events ? [].concat(o.events) : (o.event ? [o.event] : []);
    for (var i = 0; i < events.length; i++) this.follow(events[i]);
    if (this._token) this._planRefresh();

    var doc = has(o, 'document') ? o.document : (root && root.document) || null;
    this._doc = doc;
    if (doc && doc.addEventListener && o.pauseWhenHidden) {
      doc.addEventListener('visibilitychange', function () {
        if (doc.visibilityState === 'hidden' || doc.hidden === true) self.pause();
        else self.resume();
      });
    }
    if (win && o.leaveOnExit !== false) {
      win.addEventListener('pagehide', function () { self.leave(); self.pause(); });
      win.addEventListener('pageshow', function (e) { if (e && e.persisted) self.resume(); });
    }
  }

  /** Listens to 'snapshot', 'delta', 'score', 'notice', 'chat', 'reactions', 'status', 'viewers', 'update', 'state', 'transport', 'error'. */
  Client.prototype.on = function (name, fn) {
    (this._handlers[name] = this._handlers[name] || []).push(fn);
    return this;
  };

  /** Stops listening. */
  Client.prototype.off = function (name, fn) {
    var list = this._handlers[name] || [];
    for (var i = list.length - 1; i >= 0; i--) if (list[i] === fn) list.splice(i, 1);
    return this;
  };

  Client.prototype._emit = function (name) {
    var list = (this._handlers[name] || []).slice();
    var args = Array.prototype.slice.call(arguments, 1);
    for (var i = 0; i < list.length; i++) {
      try {
        list[i].apply(this, args);
      } catch (e) {
        // A page's handler that throws must not stop the loop that feeds every other handler.
        if (root && root.console && root.console.error) root.console.error('holdline: a "' + name + '" handler threw', e);
      }
    }
  };

  Client.prototype._setState = function (s) {
    if (this.state === s) return;
    this.state = s;
    this._emit('state', s);
  };

  /** Follows one more event; the held poll is restarted to include it. */
  Client.prototype.follow = function (eventId) {
    if (has(this._subs, eventId)) return this;
    if (this._order.length >= MAX_SUBS) throw new Error('holdline: at most ' + MAX_SUBS + ' events per client');
    this._subs[eventId] = { id: eventId, cursor: null, seq: null, model: null, attempt: 0, until: 0 };
    this._order.push(eventId);
    if (this._running && !this._paused) this._restart();
    return this;
  };

  /** Stops following an event. */
  Client.prototype.unfollow = function (eventId) {
    if (!has(this._subs, eventId)) return this;
    delete this._subs[eventId];
    for (var i = 0; i < this._order.length; i++) if (this._order[i] === eventId) this._order.splice(i, 1);
    if (this._running && !this._paused) this._restart();
    return this;
  };

  /** The screen-ready state of a followed event, or null before its snapshot. */
  Client.prototype.model = function (eventId) {
    return has(this._subs, eventId) ? this._subs[eventId].model : null;
  };

  /** The last cursor of a followed event (opaque), or null. */
  Client.prototype.cursor = function (eventId) {
    return has(this._subs, eventId) ? this._subs[eventId].cursor : null;
  };

  /** The viewer id this client polls as (the token's sub wins on the server). */
  Client.prototype.viewer = function () { return this._viewer; };

  /** 'xhr' or 'jsonp': how this client reaches the server now. */
  Client.prototype.transport = function () { return this._mode; };

  /** Replaces the token; the next request uses it. */
  Client.prototype.setToken = function (token) {
    this._token = token || null;
    this._planRefresh();
  };

  /** Starts polling. */
  Client.prototype.start = function () {
    if (this._running) return this;
    this._running = true;
    this._paused = false;
    this._setState('connecting');
    this._schedule(0);
    return this;
  };

  /** Stops polling for good (until start() again); cursors are kept. */
  Client.prototype.stop = function () {
    this._running = false;
    this._halt();
    if (this._refreshTimer !== null) this._clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    this._setState('stopped');
  };

  /** Stops polling while the page is hidden; resume() carries on from the same cursors. */
  Client.prototype.pause = function () {
    if (!this._running || this._paused) return;
    this._paused = true;
    this._halt();
    this._setState('paused');
  };

  /** Resumes after pause(). */
  Client.prototype.resume = function () {
    if (!this._running || !this._paused) return;
    this._paused = false;
    this._attempt = 0;
    this._setState('connecting');
    this._schedule(0);
  };

  Client.prototype._halt = function () {
    if (this._timer !== null) this._clearTimeout(this._timer);
    if (this._wakeTimer !== null) this._clearTimeout(this._wakeTimer);
    this._timer = null;
    this._wakeTimer = null;
    this._reqSeq++;
    if (this._current) this._current.abort();
    this._current = null;
  };

  Client.prototype._restart = function () {
    this._halt();
    this._schedule(0);
  };

  Client.prototype._schedule = function (ms) {
    var self = this;
    if (this._timer !== null) this._clearTimeout(this._timer);
    this._timer = this._setTimeout(function () { self._timer = null; self._poll(); }, Math.max(0, ms));
  };

  /** Calls getToken (once at a time) and tells every waiter whether a token came back. */
  Client.prototype._refreshToken = function (reason, cb) {
    var self = this;
    if (!this._getToken) { cb(false); return; }
    if (this._tokenWaiters) { this._tokenWaiters.push(cb); return; }
    this._tokenWaiters = [cb];
    var settled = false;
    function finish(err, token) {
      if (settled) return;
      settled = true;
      var waiters = self._tokenWaiters;
      self._tokenWaiters = null;
      var ok = !err && typeof token === 'string' && token.length > 0;
      if (ok) self.setToken(token);
      else self._emit('error', { code: 'token_refresh_failed', status: 0, message: String((err && err.message) || err || 'getToken gave no token') });
      for (var i = 0; i < waiters.length; i++) waiters[i](ok);
    }
    try {
      var r = this._getToken(finish, reason);
      if (typeof r === 'string') finish(null, r);
      else if (r && typeof r.then === 'function') r.then(function (t) { finish(null, t); }, function (e) { finish(e || 'getToken failed'); });
    } catch (e) {
      finish(e);
    }
  };

  /** Plans the next getToken() call before the current token expires. */
  Client.prototype._planRefresh = function () {
    var self = this;
    if (this._refreshTimer !== null) this._clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
    if (!this._getToken || !this._token) return;
    var exp = tokenExpiry(this._token);
    if (exp === null) return;
    var left = exp - this._now();
    var at = Math.max(0, left - Math.min(30000, left / 2));
    this._refreshTimer = this._setTimeout(function () {
      self._refreshTimer = null;
      self._refreshToken('expiring', function () {});
    }, at);
  };

  Client.prototype._authed = function (url, headers, mode) {
    if (!this._token) return url;
    if (mode === 'xhr') {
      headers.Authorization = 'Bearer ' + this._token;
      return url;
    }
    return url + (url.indexOf('?') < 0 ? '?' : '&') + 'access_token=' + enc(this._token);
  };

  Client.prototype._poll = function () {
    var self = this;
    if (!this._running || this._paused) return;
    if (!this._token && this._getToken && !this._askedFirstToken) {
      this._askedFirstToken = true;
      this._refreshToken('start', function () { self._schedule(0); });
      return;
    }
    var now = this._now();
    var parts = [];
    var active = [];
    var earliest = null;
    for (var i = 0; i < this._order.length; i++) {
      var sub = this._subs[this._order[i]];
      if (sub.until > now) {
        if (earliest === null || sub.until < earliest) earliest = sub.until;
        continue;
      }
      active.push(sub.id);
      parts.push(sub.cursor ? sub.id + '@' + sub.cursor : sub.id);
    }
    if (parts.length === 0) {
      if (earliest !== null) this._schedule(earliest - now);
      return;
    }
    if (earliest !== null) {
      // An event cooling down rejoins when its wait ends, not when the held poll happens to end.
      this._wakeTimer = this._setTimeout(function () { self._wakeTimer = null; self._restart(); }, earliest - now);
    }
    var url = this._base + '/poll?subs=' + enc(parts.join(',')) + '&viewer=' + enc(this._viewer);
    if (this._kinds) url += '&kinds=' + enc(this._kinds);
    if (this._types) url += '&types=' + enc(this._types);
    this.stats.polls++;
    this._send(url, this._mode, function (res) { self._onPollAnswer(res); });
  };

  /** Sends one poll with its own give-up timer; on a CORS-shaped failure, retries it as JSONP. */
  Client.prototype._send = function (url, mode, cb) {
    var self = this;
    var seq = ++this._reqSeq;
    var headers = {};
    var req = { method: 'GET', url: this._authed(url, headers, mode), headers: headers, body: null, mode: mode };
    var done = false;
    var timer = this._setTimeout(function () {
      if (handle) handle.abort();
      finish({ status: 0, body: null, retryAfter: null, timedOut: true });
    }, this._holdMs + HOLD_GRACE_MS);
    var handle = null;
    function finish(res) {
      if (done || seq !== self._reqSeq) return;
      done = true;
      self._clearTimeout(timer);
      self._current = null;
      if (mode === 'xhr' && res.status !== 0) self._xhrEverOk = true;
      if (shouldTryJsonp({ option: self._option, mode: mode, status: res.status, xhrEverOk: self._xhrEverOk, sameOrigin: self._sameOrigin })) {
        self._send(url, 'jsonp', function (r2) {
          if (r2.status !== 0 && self._mode !== 'jsonp') {
            self._mode = 'jsonp';
            self._emit('transport', 'jsonp');
          }
          cb(r2);
        });
        return;
      }
      cb(res);
    }
    handle = this._transport(req, finish);
    if (!done) this._current = handle;
  };

  Client.prototype._onPollAnswer = function (res) {
    var self = this;
    var body = res.body;
    if (res.status !== 200 || !body || !isArray(body.results)) {
      this._onFailure(res);
      return;
    }
    this._attempt = 0;
    this._retried401 = false;
    this._setState('live');
    var now = this._now();
    var delay = 0;
    for (var i = 0; i < body.results.length; i++) {
      var entry = body.results[i];
      if (!entry || !has(this._subs, entry.event)) continue; // unfollowed while the poll was held
      var sub = this._subs[entry.event];
      if (entry.error) {
        this._onEventError(sub, entry, now);
        continue;
      }
      sub.attempt = 0;
      sub.until = 0;
      this._apply(sub, entry);
      var quiet = !entry.snapshot && !(entry.deltas && entry.deltas.length);
      if (entry.advice && quiet) {
        // A draining server says when to come back (already jittered by the server).
        if (entry.advice.timeoutMs > 0) this._holdMs = entry.advice.timeoutMs;
        delay = Math.max(delay, entry.advice.retryMs || 0);
      }
      // At the head of an ended event the server answers at once: look again only now and then.
      if (entry.ended && !entry.more) sub.until = now + this._endedRecheckMs;
    }
    if (this._running && !this._paused) self._schedule(delay);
  };

  Client.prototype._onEventError = function (sub, entry, now) {
    var err = entry.error || {};
    this.stats.errors++;
    this._emit('error', { event: sub.id, status: entry.status, code: err.code, message: err.message });
    if (err.code === 'invalid_cursor') {
      sub.cursor = null; // join again: the snapshot answer replaces what we had
      return;
    }
    // Unknown or forbidden now, maybe not later (a restarted server, a re-created event).
    sub.until = now + backoffDelay(sub.attempt++, this._baseMs, this._maxMs, this._random);
  };

  Client.prototype._onFailure = function (res) {
    var self = this;
    var err = (res.body && res.body.error) || {};
    this.stats.errors++;
    if (res.status === 401 && this._getToken && !this._retried401) {
      // Refresh once and retry the same poll: the cursors are untouched, nothing is lost.
      this._retried401 = true;
      this._refreshToken('unauthorized', function (ok) {
        if (ok) self._schedule(0);
        else self._backoff(res, err);
      });
      return;
    }
    this._backoff(res, err);
  };

  Client.prototype._backoff = function (res, err) {
    var delay = backoffDelay(this._attempt++, this._baseMs, this._maxMs, this._random);
    if (res.status === 429 || res.status === 503) {
      var after = retryAfterMs(res.retryAfter, this._now());
      if (after !== null) delay = Math.max(delay, after);
    }
    this._emit('error', { status: res.status, code: err.code || (res.status === 0 ? 'network' : 'http_' + res.status), message: err.message || '', retryInMs: delay });
    this._setState('backoff');
    if (this._running && !this._paused) this._schedule(delay);
  };

  Client.prototype._apply = function (sub, ans) {
    var id = sub.id;
    var changed = false;
    if (ans.snapshot) {
      sub.model = modelFromSnapshot(id, ans.snapshot);
      sub.seq = ans.snapshot.seq;
      if (ans.reset) this.stats.resets++;
      changed = true;
      this._emit('snapshot', id, sub.model, { reset: !!ans.reset, missed: ans.missed === undefined ? null : ans.missed });
    }
    var m = sub.model;
    if (!m) return; // a delta answer before any snapshot cannot happen without a cursor
    var deltas = ans.deltas || [];
    for (var i = 0; i < deltas.length; i++) {
      var d = deltas[i];
      if (sub.seq !== null && d.seq <= sub.seq) {
        this.stats.duplicates++;
        continue;
      }
      applyDelta(m, d, this._chatLimit);
      sub.seq = d.seq;
      this.stats.deltas++;
      changed = true;
      this._emit('delta', id, d, m);
      this._emit(d.kind, id, d, m);
    }
    sub.cursor = ans.cursor;
    m.cursor = ans.cursor;
    if (ans.ended) m.ended = true;
    if (typeof ans.viewers === 'number' && ans.viewers !== m.viewers) {
      m.viewers = ans.viewers;
      changed = true;
      this._emit('viewers', id, ans.viewers, m);
    }
    if (changed) this._emit('update', id, m);
  };

  /** POSTs a write; over JSONP the answer cannot be read, so success is "sent" (status 0, blind). */
  Client.prototype._write = function (path, payload, cb, retried) {
    var self = this;
    var mode = this._mode;
    var headers = { 'Content-Type': 'text/plain;charset=UTF-8' };
    var url = this._base + path + '?viewer=' + enc(this._viewer);
    // text/plain and no custom header keep an anonymous write a "simple" request: no preflight.
    url = this._authed(url, headers, mode);
    var done = false;
    var handle = null;
    var timer = this._setTimeout(function () {
      if (handle) handle.abort();
      finish({ status: 0, body: null, retryAfter: null });
    }, WRITE_TIMEOUT_MS);
    function finish(res) {
      if (done) return;
      done = true;
      self._clearTimeout(timer);
      if (res.status === 401 && self._getToken && !retried) {
        self._refreshToken('unauthorized', function (ok) {
          if (ok) self._write(path, payload, cb, true);
          else if (cb) cb({ status: 401, code: 'unauthorized', message: 'no valid token' }, null);
        });
        return;
      }
      if (!cb) return;
      if (mode === 'jsonp' && res.status === 0) cb(null, { status: 0, blind: true });
      else if (res.status >= 200 && res.status < 300) cb(null, res.body || { status: res.status });
      else cb({ status: res.status, code: (res.body && res.body.error && res.body.error.code) || 'network', message: (res.body && res.body.error && res.body.error.message) || '', retryAfterMs: retryAfterMs(res.retryAfter, self._now()) }, null);
    }
    handle = this._transport({ method: 'POST', url: url, headers: headers, body: JSON.stringify(payload), mode: 'xhr' }, finish);
  };

  /** Sends a reaction `{emoji, comment?}`; cb(err, answer). */
  Client.prototype.react = function (eventId, emoji, comment, cb) {
    if (typeof comment === 'function') { cb = comment; comment = null; }
    var payload = { emoji: emoji };
    if (comment) payload.comment = comment;
    this._write('/events/' + enc(eventId) + '/reactions', payload, cb, false);
  };

  /** Sends a chat message (needs a token with a sub); cb(err, answer). */
  Client.prototype.chat = function (eventId, text, cb) {
    this._write('/events/' + enc(eventId) + '/chat', { text: text }, cb, false);
  };

  /** Leaves presence for every followed event, with sendBeacon so it survives the page's exit. */
  Client.prototype.leave = function () {
    var nav = root && root.navigator;
    for (var i = 0; i < this._order.length; i++) {
      var url = this._authed(this._base + '/events/' + enc(this._order[i]) + '/leave?viewer=' + enc(this._viewer), {}, 'jsonp');
      if (nav && nav.sendBeacon) {
        try { nav.sendBeacon(url, ''); continue; } catch (e) { /* fall through to XHR */ }
      }
      if (root && root.XMLHttpRequest) this._transport({ method: 'POST', url: url, headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: '', mode: 'xhr' }, function () {});
    }
  };

  return {
    version: VERSION,
    /** Makes a client; call start() on it. */
    create: function (options) { return new Client(options); },
    Client: Client,
    backoffDelay: backoffDelay,
    retryAfterMs: retryAfterMs,
    shouldTryJsonp: shouldTryJsonp,
    mergePatch: mergePatch,
    tokenExpiry: tokenExpiry,
    transports: { browser: browserTransport, xhr: xhrRequest, jsonp: jsonpRequest }
  };
}));
