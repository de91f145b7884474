/*!
 * holdline widget: a live scoreboard any page embeds with one div and one script tag:
 *
 *   <div data-holdline-event="m1"></div>
 *   <script src="https://live.example.com/widget.js"></script>
 *
 * It loads holdline.js from the same server, follows every such div's event in one held
 * request (per token), and draws score, notices, chat, reactions and the viewer count.
 * ES5, no dependencies; styles are scoped under .hlw. Options: docs/EMBEDDING.md.
 */
(function (window, document) {
  'use strict';
  if (window.HoldlineWidget) { window.HoldlineWidget.scan(); return; }

  var DEFAULT_REACTIONS = ['\uD83D\uDC4D', '\uD83C\uDF89', '\uD83D\uDE2E', '\uD83D\uDE22', '\uD83D\uDD25'];
  /**
   * Icons as inline SVG, so they draw where no colour-emoji font is installed (many Linux
   * desktops, kiosks, older Windows); where one is, the emoji is shown instead (see EMOJI_FONT).
   */
  var FACE = '<circle cx="8" cy="8" r="7" fill="#f4c430"/><circle cx="5.5" cy="6.3" r="1" fill="#5a3a00"/><circle cx="10.5" cy="6.3" r="1" fill="#5a3a00"/>';
  var SVG = {
    thumbs: '<path fill="#e0a526" d="M1.5 7h3v7.5h-3zM6 7.2l2.6-5c1-.3 2 .5 1.8 1.7L10 6.6h3.6c1 0 1.7.9 1.4 1.8l-1.3 5.1c-.2.6-.7 1-1.3 1H6z"/>',
    party: '<path fill="#e0a526" d="M1.5 14.5l3.2-9.7 6.5 6.5z"/><path fill="#cf222e" d="M3.1 9.8l3.1 3.1-1.7.6-2-2z"/><circle cx="11.5" cy="2.8" r="1.3" fill="#cf222e"/><circle cx="14" cy="7" r="1.1" fill="#0969da"/><circle cx="8.5" cy="1.8" r=".9" fill="#1f883d"/><path d="M9 5.5l3-2.5M10.5 8.5l3.5-.5" stroke="#8250df" stroke-width="1.3" stroke-linecap="round" fill="none"/>',
    wow: FACE + '<ellipse cx="8" cy="11" rx="1.8" ry="2.2" fill="#5a3a00"/>',
    sad: FACE + '<path d="M4.8 12.2c1.8-1.9 4.6-1.9 6.4 0" stroke="#5a3a00" stroke-width="1.3" fill="none" stroke-linecap="round"/><path fill="#3b8eea" d="M12.3 8.2c.9 1.3 1.4 2.1 1.4 2.7a1.4 1.4 0 0 1-2.8 0c0-.6.5-1.4 1.4-2.7z"/>',
    fire: '<path fill="#f0561d" d="M8 .8c.6 2.6 4.8 4.4 4.8 8.7A4.8 4.8 0 0 1 8 15.2a4.8 4.8 0 0 1-4.8-4.7c0-2.3 1.3-3.6 2.2-4.6.1 1.3.7 2.2 1.5 2.6C6.4 6.3 7.7 3.4 8 .8z"/><path fill="#ffc83d" d="M8 8c1.2 1.6 2.4 2.5 2.4 3.9a2.4 2.4 0 0 1-4.8 0C5.6 10.6 7 9.7 8 8z"/>',
    ball: '<circle cx="8" cy="8" r="6.6" fill="#fff" stroke="#222" stroke-width="1.2"/><path fill="#222" d="M8 4.8l2.6 1.9-1 3H6.4l-1-3z"/>',
    yellow: '<rect x="4" y="1.8" width="8" height="12.4" rx="1.2" fill="#f2c300" transform="rotate(8 8 8)"/>',
    red: '<rect x="4" y="1.8" width="8" height="12.4" rx="1.2" fill="#d1242f" transform="rotate(8 8 8)"/>',
    sub: '<path d="M2.5 6h9l-2.5-2.5M13.5 10h-9l2.5 2.5" stroke="#1f883d" stroke-width="1.6" fill="none" stroke-linecap="round" stroke-linejoin="round"/>',
    injury: '<rect x="1.5" y="1.5" width="13" height="13" rx="3" fill="#d1242f"/><path d="M8 4.5v7M4.5 8h7" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/>',
    eye: '<path d="M1 8s2.6-4.6 7-4.6S15 8 15 8s-2.6 4.6-7 4.6S1 8 1 8z" fill="none" stroke="currentColor" stroke-width="1.4"/><circle cx="8" cy="8" r="2.1" fill="currentColor"/>',
    heart: '<path fill="#d1242f" d="M8 14.3S1.3 10.2 1.3 5.6A3.3 3.3 0 0 1 8 4.2a3.3 3.3 0 0 1 6.7 1.4C14.7 10.2 8 14.3 8 14.3z"/>',
    bat: '<path d="M3 13.5l7.6-7.6" stroke="#b07a3b" stroke-width="3" stroke-linecap="round"/><path d="M11 5.5l2.5-2.5" stroke="#6b4a24" stroke-width="1.6" stroke-linecap="round"/><circle cx="12.6" cy="11.8" r="1.9" fill="#d1242f"/>'
  };
  /** Emoji the widget draws itself: the default reactions and the football timeline's. */
  var EMOJI_ICONS = {
    '\uD83D\uDC4D': 'thumbs', '\uD83C\uDF89': 'party', '\uD83D\uDE2E': 'wow', '\uD83D\uDE22': 'sad', '\uD83D\uDD25': 'fire',
    '\u26BD': 'ball', '\uD83D\uDFE8': 'yellow', '\uD83D\uDFE5': 'red', '\uD83D\uDD01': 'sub', '\uD83E\uDE79': 'injury',
    '\uD83D\uDC41': 'eye', '\u2764\uFE0F': 'heart', '\uD83C\uDFCF': 'bat'
  };
  var ICON_NAMES = { thumbs: 'thumbs up', party: 'party', wow: 'wow', sad: 'sad', fire: 'fire', ball: 'goal', yellow: 'yellow card', red: 'red card', sub: 'substitution', injury: 'injury', eye: 'watching', heart: 'heart rate', bat: 'batting' };

  /** True when this browser draws emoji in colour (a colour-emoji font is installed). */
  function hasColourEmoji() {
    try {
      var c = document.createElement('canvas');
      c.width = c.height = 20;
      var g = c.getContext && c.getContext('2d');
      if (!g || !g.getImageData) return false;
      g.textBaseline = 'top';
      g.font = '16px sans-serif';
      g.fillStyle = '#000';
      g.fillText('\uD83D\uDD25', 0, 0);
      var d = g.getImageData(0, 0, 20, 20).data;
      // A monochrome glyph or a missing-glyph box is black; a colour emoji is not.
      for (var i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] > 40 || d[i + 1] > 40 || d[i + 2] > 40)) return true;
    } catch (e) { /* no canvas: draw our own */ }
    return false;
  }
  var EMOJI_FONT = null;

  /** The markup for an emoji: our SVG where we have one (or always, with icons=svg), else the emoji as text. */
  function icon(emoji, mode) {
    var name = EMOJI_ICONS[emoji];
    if (EMOJI_FONT === null) EMOJI_FONT = hasColourEmoji();
    if (!name || (mode !== 'svg' && (mode === 'emoji' || EMOJI_FONT))) return '<span class="hlw-emoji" aria-hidden="true">' + esc(emoji) + '</span>';
    return '<svg class="hlw-icon" data-icon="' + name + '" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">' + SVG[name] + '</svg>';
  }
  function iconLabel(emoji) { return ICON_NAMES[EMOJI_ICONS[emoji]] || emoji; }
  var TOAST_MS = 6000;
  // Both sides use the solid glyphs, coloured by CSS: the outlined white ones read poorly on a board.
  var PIECES = { k: '\u265A', q: '\u265B', r: '\u265C', b: '\u265D', n: '\u265E', p: '\u265F' };

  /** The server is wherever this script came from: currentScript, else the last widget.js tag (old browsers run scripts in order). */
  function ownScript() {
    if (document.currentScript) return document.currentScript;
    var scripts = document.getElementsByTagName('script');
    for (var i = scripts.length - 1; i >= 0; i--) if (/\/widget\.js([?#].*)?$/.test(scripts[i].src || '')) return scripts[i];
    return null;
  }
  var me = ownScript();
  var BASE = me ? me.src.replace(/\/widget\.js([?#].*)?$/, '') : '';

  function esc(v) {
    return String(v === undefined || v === null ? '' : v).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function isObj(v) { return v !== null && typeof v === 'object' && Object.prototype.toString.call(v) !== '[object Array]'; }
  function isArr(v) { return Object.prototype.toString.call(v) === '[object Array]'; }
  function el(tag, cls, html) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (html !== undefined) e.innerHTML = html;
    return e;
  }
  function find(root, cls) { return root.getElementsByClassName ? root.getElementsByClassName(cls)[0] : root.querySelector('.' + cls); }
  function text(v) { return isObj(v) || isArr(v) ? JSON.stringify(v) : String(v); }
  function pick(o, keys) { for (var i = 0; i < keys.length; i++) if (o && o[keys[i]] !== undefined && o[keys[i]] !== null) return o[keys[i]]; return undefined; }

  var CSS = [
    '.hlw{all:initial;display:block;box-sizing:border-box;width:100%;min-width:0;max-width:420px;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#fff;border:1px solid #d0d7de;border-radius:10px;overflow:hidden;position:relative}',
    '.hlw *{box-sizing:border-box;font:inherit;color:inherit;margin:0;padding:0}',
    '.hlw-dark{color:#e6edf3;background:#0d1117;border-color:#30363d}',
    '.hlw-head{display:flex;align-items:center;gap:8px;padding:8px 12px;background:#f6f8fa;border-bottom:1px solid #d0d7de}',
    '.hlw-dark .hlw-head{background:#161b22;border-color:#30363d}',
    '.hlw-title{flex:1;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}',
    '.hlw-dot{width:8px;height:8px;border-radius:50%;background:#8c959f;display:inline-block}',
    '.hlw[data-hlw-state=live] .hlw-dot{background:#1f883d}',
    '.hlw[data-hlw-state=backoff] .hlw-dot{background:#d1242f}',
    '.hlw-status{font-size:11px;opacity:.7;text-transform:lowercase}',
    '.hlw[data-hlw-state=backoff] .hlw-status{color:#d1242f;opacity:1}',
    '.hlw-viewers{font-size:12px;opacity:.75;white-space:nowrap}',
    '.hlw-icon{display:inline-block;width:1.15em;height:1.15em;vertical-align:-.2em;overflow:visible}',
    '.hlw-big .hlw-icon{width:.8em;height:.8em;vertical-align:-.05em}',
    '.hlw-teams span{flex:1 1 0;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-weight:600}',
    '.hlw-teams span+span{text-align:right}',
    '.hlw-score{padding:12px}',
    '.hlw-big{font-size:28px;font-weight:700;text-align:center;letter-spacing:1px}',
    '.hlw-sub{font-size:12px;opacity:.75;text-align:center}',
    '.hlw-row{display:flex;justify-content:space-between;gap:8px;padding:2px 0}',
    '.hlw-list{list-style:none;max-height:150px;overflow:auto;margin-top:8px;font-size:13px}',
    '.hlw-list li{padding:2px 0;border-top:1px dashed rgba(128,128,128,.25)}',
    '.hlw-comment{margin-top:8px;font-style:italic}',
    '.hlw-board{border-collapse:collapse;margin:6px auto}',
    '.hlw-board td{width:30px;height:30px;text-align:center;vertical-align:middle;font-size:23px;line-height:30px;color:#000}',
    '.hlw-board .hlw-l{background:#f0d9b5}.hlw-board .hlw-d{background:#b58863}',
    '.hlw-board .hlw-w{color:#fff;text-shadow:0 0 2px #000,0 0 1px #000}.hlw-board .hlw-b{color:#111}',
    '.hlw-kv td{padding:2px 6px;border-top:1px solid rgba(128,128,128,.2)}',
    '.hlw-feed{list-style:none;padding:0 12px;font-size:12px}',
    '.hlw-feed li{padding:2px 0}',
    '.hlw-important{font-weight:600}',
    // Toasts sit in the flow under the score: they push the feed down, never cover the score, title or count.
    '.hlw-toasts{padding:0 12px}',
    '.hlw-toasts:empty{display:none}',
    '.hlw-toast{background:#0969da;color:#fff;padding:6px 10px;border-radius:6px;margin-bottom:6px;font-size:13px;animation:hlw-in .25s ease-out}',
    '.hlw-toast b{font-weight:700}',
    '@keyframes hlw-in{from{opacity:0;transform:translateY(-4px)}to{opacity:1;transform:none}}',
    '.hlw-toast.hlw-important{background:#cf222e}',
    '.hlw-reactions{display:flex;flex-wrap:wrap;gap:6px;padding:8px 12px;border-top:1px solid rgba(128,128,128,.25)}',
    '.hlw-reactions button{display:inline-flex;align-items:center;gap:2px;min-height:32px;cursor:pointer;border:1px solid #d0d7de;border-radius:16px;padding:2px 10px;background:transparent;font-size:15px}',
    '.hlw-reactions button:hover{background:rgba(128,128,128,.12)}',
    '.hlw-reactions button:active{transform:scale(.92)}',
    '.hlw-count{font-size:12px;margin-left:3px;opacity:.8}',
    '.hlw-chat{border-top:1px solid rgba(128,128,128,.25);padding:8px 12px}',
    '.hlw-messages{list-style:none;max-height:140px;overflow:auto;font-size:13px}',
    '.hlw-messages li{padding:1px 0;overflow-wrap:anywhere}',
    '.hlw-messages b{font-weight:600;margin-right:4px}',
    '.hlw-send{display:flex;gap:6px;margin-top:6px}',
    // min-width:0: an input's intrinsic width (size=20) would otherwise push a phone-wide widget wider than the screen.
    '.hlw-send input{flex:1;min-width:0;border:1px solid #d0d7de;border-radius:6px;padding:6px 8px;background:#fff;color:#1b1f24;font-size:16px}',
    '.hlw-send button{border:0;border-radius:6px;padding:6px 12px;background:#1f883d;color:#fff;cursor:pointer;font-weight:600}',
    '.hlw-note{font-size:12px;opacity:.7;margin-top:4px}'
  ].join('\n');

  function injectCss() {
    if (document.getElementById('hlw-style')) return;
    var style = el('style');
    style.id = 'hlw-style';
    style.type = 'text/css';
    if (style.styleSheet) style.styleSheet.cssText = CSS; else style.appendChild(document.createTextNode(CSS));
    (document.getElementsByTagName('head')[0] || document.documentElement).appendChild(style);
  }

  /** Football: names and goals, minute, and the latest goals, cards, substitutions and injuries. */
  function renderFootball(s, meta, mode) {
    var home = isObj(s.home) ? s.home : { goals: s.home };
    var away = isObj(s.away) ? s.away : { goals: s.away };
    var icons = { goal: '\u26BD', yellow: '\uD83D\uDFE8', red: '\uD83D\uDFE5', sub: '\uD83D\uDD01', injury: '\uD83E\uDE79' };
    var html = '<div class="hlw-row hlw-teams"><span>' + esc(home.name || meta.home || 'Home') + '</span><span>' + esc(away.name || meta.away || 'Away') + '</span></div>' +
      '<div class="hlw-big">' + esc(home.goals || 0) + ' \u2013 ' + esc(away.goals || 0) + '</div>' +
      '<div class="hlw-sub">' + esc(s.period || '') + (s.minute !== undefined ? ' ' + esc(s.minute) + '\u2032' : '') + '</div>';
    var events = isArr(s.events) ? s.events.slice(-8).reverse() : [];
    if (events.length) {
      html += '<ul class="hlw-list hlw-timeline">';
      for (var i = 0; i < events.length; i++) {
        var e = events[i];
        html += '<li data-kind="' + esc(e.type) + '">' + esc(e.minute) + '\u2032 ' + (icons[e.type] ? icon(icons[e.type], mode) : '\u2022') + ' ' + esc(e.player || '') +
          (e.detail ? ' <span class="hlw-sub">(' + esc(e.detail) + ')</span>' : '') + '</li>';
      }
      html += '</ul>';
    }
    return html;
  }

  /** Cricket, ball by ball: total, overs, batsman, bowler, commentary (the seed's payload). */
  function renderCricket(s, meta, mode) {
    var bat = s.batsman || {};
    var bowl = s.bowler || {};
    var html = '<div class="hlw-sub">' + esc(meta.batting || '') + (s.innings ? ' innings ' + esc(s.innings) : '') + '</div>' +
      '<div class="hlw-big">' + esc(s.runs !== undefined ? s.runs : 0) + '/' + esc(s.wickets !== undefined ? s.wickets : 0) + '</div>' +
      '<div class="hlw-sub">' + esc(s.overs || '0.0') + ' overs' + (s.target ? ' \u2022 target ' + esc(s.target) : '') + '</div>';
    if (bat.name) html += '<div class="hlw-row hlw-batsman"><span>' + icon('\uD83C\uDFCF', mode) + ' ' + esc(bat.name) + '*' + '</span><span>' + esc(bat.runs) + ' (' + esc(bat.balls) + ')</span></div>';
    if (bowl.name) {
      html += '<div class="hlw-row hlw-bowler"><span>bowling: ' + esc(bowl.name) + '</span><span>' + esc(bowl.overs || '') +
        (bowl.wickets !== undefined ? ' \u2022 ' + esc(bowl.wickets) + '-' + esc(bowl.runs) : '') + '</span></div>';
    }
    if (s.commentary || s.comment) html += '<div class="hlw-comment">' + esc(s.commentary || s.comment) + '</div>';
    return html;
  }

  /** Chess: the board drawn from FEN, the players and the last moves. */
  function renderChess(s) {
    var rows = String(s.fen || '8/8/8/8/8/8/8/8').split(' ')[0].split('/');
    var html = '<div class="hlw-row"><span>\u25CB ' + esc(s.white || 'White') + '</span><span>\u25CF ' + esc(s.black || 'Black') + '</span></div><table class="hlw-board">';
    for (var r = 0; r < 8; r++) {
      html += '<tr>';
      var row = rows[r] || '8';
      var file = 0;
      for (var i = 0; i < row.length && file < 8; i++) {
        var c = row.charAt(i);
        var empty = /[1-8]/.test(c) ? parseInt(c, 10) : 0;
        for (var k = 0; k < (empty || 1) && file < 8; k++, file++) {
          var piece = empty ? '' : PIECES[c.toLowerCase()] || '';
          if (piece) piece = '<span class="' + (c === c.toUpperCase() ? 'hlw-w' : 'hlw-b') + '">' + piece + '\uFE0E</span>';
          html += '<td class="' + ((r + file) % 2 ? 'hlw-d' : 'hlw-l') + '">' + piece + '</td>';
        }
      }
      while (file < 8) { html += '<td class="' + ((r + file) % 2 ? 'hlw-d' : 'hlw-l') + '"></td>'; file++; }
      html += '</tr>';
    }
    html += '</table>';
    var moves = isArr(s.moves) ? s.moves : [];
    var list = [];
    for (var m = Math.max(0, moves.length - 8); m < moves.length; m++) list.push((m % 2 ? '' : (m / 2 + 1) + '. ') + esc(moves[m]));
    html += '<div class="hlw-sub hlw-moves">' + list.join(' ') + (s.result ? ' <b>' + esc(s.result) + '</b>' : '') + '</div>';
    if (s.comment) html += '<div class="hlw-comment">' + esc(s.comment) + '</div>';
    return html;
  }

  /** A workout session: heart rate, the exercise, set and reps, and the running totals. */
  function renderWorkout(s, meta, mode) {
    var mins = s.elapsedS !== undefined ? Math.floor(s.elapsedS / 60) + ':' + ('0' + (s.elapsedS % 60)).slice(-2) : '';
    return '<div class="hlw-sub">' + esc(s.athlete || '') + '</div>' +
      '<div class="hlw-big">' + icon('\u2764\uFE0F', mode) + ' ' + esc(s.heartRate !== undefined ? s.heartRate : '--') + ' <span class="hlw-sub">bpm</span></div>' +
      '<div class="hlw-row"><span>' + esc(s.exercise || '') + '</span><span>set ' + esc(s.set || 0) + '/' + esc(s.sets || '?') + ' \u2022 ' + esc(s.reps || 0) + ' reps' +
      (s.weightKg ? ' @ ' + esc(s.weightKg) + ' kg' : '') + '</span></div>' +
      '<div class="hlw-row"><span>' + esc(s.totalReps || 0) + ' reps total</span><span>' + esc(s.calories || 0) + ' kcal \u2022 ' + esc(mins) + '</span></div>';
  }

  /** Anything else: the score's keys and values. */
  function renderGeneric(s) {
    var html = '<table class="hlw-kv">';
    var any = false;
    for (var k in s) if (Object.prototype.hasOwnProperty.call(s, k)) { any = true; html += '<tr><td>' + esc(k) + '</td><td>' + esc(text(s[k])) + '</td></tr>'; }
    return any ? html + '</table>' : '<div class="hlw-sub">Waiting for the first update\u2026</div>';
  }

  var RENDERERS = { football: renderFootball, soccer: renderFootball, cricket: renderCricket, chess: renderChess, workout: renderWorkout, fitness: renderWorkout };

  /** One mounted div: builds its DOM once and redraws the parts a model change touches. */
  function Widget(node, client, eventId, o) {
    var self = this;
    this.node = node;
    this.client = client;
    this.eventId = eventId;
    this.reactions = o.reactions;
    this.icons = o.icons;
    this.resets = 0;
    var root = this.root = el('div', 'hlw' + (o.theme === 'dark' ? ' hlw-dark' : ''));
    root.setAttribute('data-hlw-state', 'connecting');
    root.appendChild(el('div', 'hlw-head', '<span class="hlw-dot" aria-hidden="true"></span><span class="hlw-status" role="status"></span><span class="hlw-title">' + esc(eventId) + '</span><span class="hlw-viewers" title="watching now"></span>'));
    this.showState(client.state === 'idle' ? 'connecting' : client.state);
    this.score = root.appendChild(el('div', 'hlw-score', '<div class="hlw-sub">Connecting\u2026</div>'));
    this.toasts = root.appendChild(el('div', 'hlw-toasts'));
    this.feed = root.appendChild(el('ul', 'hlw-feed'));
    var bar = this.bar = root.appendChild(el('div', 'hlw-reactions'));
    for (var i = 0; i < o.reactions.length; i++) {
      var b = el('button', '', icon(o.reactions[i], o.icons) + '<span class="hlw-count">0</span>');
      b.type = 'button';
      b.title = iconLabel(o.reactions[i]);
      b.setAttribute('aria-label', iconLabel(o.reactions[i]));
      b.setAttribute('data-emoji', o.reactions[i]);
      b.onclick = (function (emoji) { return function () { client.react(eventId, emoji, function () {}); }; }(o.reactions[i]));
      bar.appendChild(b);
    }
    if (o.chat !== 'off') {
      var chat = root.appendChild(el('div', 'hlw-chat'));
      this.messages = chat.appendChild(el('ul', 'hlw-messages'));
      if (o.token || o.getToken) {
        var form = chat.appendChild(el('form', 'hlw-send', '<input type="text" maxlength="500" placeholder="Say something\u2026" aria-label="chat message"><button type="submit">Send</button>'));
        var note = chat.appendChild(el('div', 'hlw-note'));
        form.onsubmit = function (e) {
          if (e && e.preventDefault) e.preventDefault();
          var input = form.getElementsByTagName('input')[0];
          var value = input.value;
          if (!/\S/.test(value)) return false;
          client.chat(eventId, value, function (err) {
            note.innerHTML = err ? esc(err.code === 'rate_limited' ? 'Slow down a little.' : 'Not sent (' + (err.code || err.status) + ').') : '';
            if (!err) input.value = '';
          });
          return false;
        };
      } else {
        chat.appendChild(el('div', 'hlw-note', 'Read-only chat'));
      }
    }
    node.innerHTML = '';
    node.appendChild(root);
    client.on('snapshot', function (id, m, info) {
      if (id !== eventId) return;
      if (info.reset) { self.resets++; root.setAttribute('data-hlw-resets', String(self.resets)); self.feed.innerHTML = ''; }
      self.draw(m);
    });
    client.on('update', function (id, m) { if (id === eventId) self.draw(m); });
    client.on('notice', function (id, d) { if (id === eventId) self.notice(d); });
    client.on('state', function (s) { self.showState(s); });
    client.on('transport', function (mode) { root.setAttribute('data-hlw-transport', mode); });
    root.setAttribute('data-hlw-transport', client.transport());
  }

  /**
   * What the viewer reads next to the dot. The client is 'live' while its polls are held, and
   * stays so through a cut retried at once; 'backoff' means the server cannot be reached.
   */
  var STATE_LABELS = { connecting: 'connecting', live: 'live', backoff: 'reconnecting', paused: 'paused', stopped: 'stopped' };

  Widget.prototype.showState = function (s) {
    this.root.setAttribute('data-hlw-state', s);
    find(this.root, 'hlw-status').innerHTML = esc(STATE_LABELS[s] || s);
  };

  /** Redraws from the client's model of the event. */
  Widget.prototype.draw = function (m) {
    var meta = m.meta || {};
    find(this.root, 'hlw-title').innerHTML = esc(meta.title || this.eventId) + (m.ended ? ' <span class="hlw-sub">(ended)</span>' : '');
    find(this.root, 'hlw-viewers').innerHTML = m.viewers === null ? '' : icon('\uD83D\uDC41', 'svg') + ' <span class="hlw-viewer-count">' + esc(m.viewers) + '</span>';
    var sport = String(meta.sport || '').toLowerCase();
    this.root.setAttribute('data-hlw-sport', sport);
    this.score.innerHTML = (RENDERERS[sport] || renderGeneric)(m.score || {}, meta, this.icons);
    var buttons = this.bar.getElementsByTagName('button');
    for (var i = 0; i < buttons.length; i++) {
      var n = m.reactions.totals[buttons[i].getAttribute('data-emoji')] || 0;
      buttons[i].getElementsByTagName('span')[0].innerHTML = esc(n);
    }
    if (this.messages) {
      var html = '';
      for (var c = 0; c < m.chat.length; c++) {
        var msg = m.chat[c];
        html += '<li data-seq="' + esc(msg.seq) + '"><b>' + esc((msg.user && (msg.user.name || msg.user.id)) || '?') + '</b>' + esc(msg.text) + '</li>';
      }
      this.messages.innerHTML = html;
      this.messages.scrollTop = this.messages.scrollHeight;
    }
  };

  /** A notice becomes a toast that fades, and a line in the feed of recent moments. */
  Widget.prototype.notice = function (d) {
    var cls = d.data.level === 'important' ? ' hlw-important' : '';
    var body = '<b>' + esc(d.data.title) + '</b>' + (d.data.body ? '<br>' + esc(d.data.body) : '');
    var toast = this.toasts.appendChild(el('div', 'hlw-toast' + cls, body));
    window.setTimeout(function () { if (toast.parentNode) toast.parentNode.removeChild(toast); }, TOAST_MS);
    var li = el('li', cls, esc(d.data.title));
    li.setAttribute('data-seq', String(d.seq));
    this.feed.insertBefore(li, this.feed.firstChild);
    while (this.feed.childNodes.length > 4) this.feed.removeChild(this.feed.lastChild);
  };

  var clients = {};
  var widgets = [];

  /** data-holdline-hold: a hold to pin, in seconds as timeout= takes it; anything else pins nothing. */
  function holdAttribute(v) {
    return v && /^\d+(\.\d+)?$/.test(v) && parseFloat(v) > 0 ? Math.round(parseFloat(v) * 1000) : undefined;
  }

  function optionsOf(node) {
    var fnName = node.getAttribute('data-holdline-token-fn');
    var list = node.getAttribute('data-holdline-reactions');
    return {
      token: node.getAttribute('data-holdline-token') || null,
      getToken: fnName && typeof window[fnName] === 'function' ? window[fnName] : null,
      reactions: list ? list.split(',') : DEFAULT_REACTIONS,
      chat: node.getAttribute('data-holdline-chat'),
      theme: node.getAttribute('data-holdline-theme'),
      icons: node.getAttribute('data-holdline-icons') || 'auto',
      pauseWhenHidden: node.getAttribute('data-holdline-pause-hidden') === 'true',
      holdMs: holdAttribute(node.getAttribute('data-holdline-hold')),
      server: node.getAttribute('data-holdline-server') || BASE
    };
  }

  /** Mounts one element on an event; divs that share a server and token share one client (one held request). */
  function mount(node, eventId, o) {
    var key = o.server + '|' + (o.token || '') + '|' + (o.getToken ? 'fn' : '') + '|' + (o.holdMs || '');
    var client = clients[key];
    if (!client) {
      client = clients[key] = window.Holdline.create({ baseUrl: o.server, token: o.token || undefined, getToken: o.getToken || undefined, pauseWhenHidden: o.pauseWhenHidden, holdMs: o.holdMs });
    }
    var w = new Widget(node, client, eventId, o);
    widgets.push(w);
    client.follow(eventId);
    client.start();
    return w;
  }

  /** Finds every unmounted [data-holdline-event] element and mounts it. */
  function scan() {
    var nodes = document.querySelectorAll ? document.querySelectorAll('[data-holdline-event]') : [];
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      if (node.getAttribute('data-holdline-mounted')) continue;
      node.setAttribute('data-holdline-mounted', '1');
      mount(node, node.getAttribute('data-holdline-event'), optionsOf(node));
    }
  }

  function whenReady(fn) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn);
    else fn();
  }

  function withClient(fn) {
    if (window.Holdline) { fn(); return; }
    var s = document.createElement('script');
    var done = false;
    s.src = BASE + '/holdline.js';
    s.async = true;
    s.onload = s.onreadystatechange = function () {
      if (done || (s.readyState && s.readyState !== 'loaded' && s.readyState !== 'complete')) return;
      done = true;
      fn();
    };
    (document.getElementsByTagName('head')[0] || document.documentElement).appendChild(s);
  }

  window.HoldlineWidget = {
    version: '1.1.0',
    scan: function () { withClient(scan); },
    widgets: widgets,
    /** The markup the widget draws an emoji with: its own SVG where it has one and no colour-emoji font draws it. */
    icon: function (emoji, mode) { return icon(String(emoji), mode || 'auto'); },
    /** Mounts on an element made after load; options override its data-holdline-* attributes. */
    mount: function (node, eventId, options) {
      var o = optionsOf(node);
      for (var k in options) if (Object.prototype.hasOwnProperty.call(options, k)) o[k] = options[k];
      node.setAttribute('data-holdline-mounted', '1');
      withClient(function () { mount(node, eventId, o); });
    }
  };
  injectCss();
  withClient(function () { whenReady(scan); });
}(window, document));
