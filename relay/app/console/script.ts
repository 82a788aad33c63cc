// The console's browser side: plain JavaScript, inlined into the page (no build step). It polls
// /console/api/live every second, turns counter differences into rates, draws the sparklines, and
// drives pause/resume and the DLQ dry run and replay. Every action sends the session's CSRF token in
// the x-ferry-csrf header. (Kept free of backticks, backslashes and dollar-braces: it lives in a
// template string.)
export const CONSOLE_SCRIPT = `
(function () {
  'use strict';
  var csrf = document.querySelector('meta[name="ferry-csrf"]').getAttribute('content');
  var $ = function (id) { return document.getElementById(id); };
  var SVG = 'http://www.w3.org/2000/svg';
  var HISTORY = 120;
  var prev = null;
  var series = {};
  var total = [];

  function num(n, digits) {
    if (n === null || n === undefined || !isFinite(n)) return '–';
    return n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(digits === undefined ? 1 : digits);
  }
  function seconds(s) {
    if (s === null || !isFinite(s)) return '–';
    return s < 1 ? Math.round(s * 1000) + ' ms' : s.toFixed(s < 10 ? 2 : 0) + ' s';
  }
  function cell(row, col, cls) {
    var td = row.querySelector('[data-col="' + col + '"]');
    if (!td) {
      td = document.createElement('td');
      td.setAttribute('data-col', col);
      if (cls) td.className = cls;
      row.appendChild(td);
    }
    return td;
  }
  function pill(td, text) {
    var span = td.firstChild;
    if (!span) { span = document.createElement('span'); td.appendChild(span); }
    span.className = 'pill ' + text;
    span.textContent = text;
  }
  function spark(svg, values) {
    var w = Number(svg.getAttribute('width')), h = Number(svg.getAttribute('height'));
    var line = svg.querySelector('polyline');
    if (!line) { line = document.createElementNS(SVG, 'polyline'); svg.appendChild(line); }
    var max = Math.max.apply(null, values.concat([1]));
    // Stretched over the width: the shape of what was seen so far (at most the last two minutes).
    var step = values.length > 1 ? w / (values.length - 1) : 0;
    line.setAttribute('points', values.map(function (v, i) {
      return (i * step).toFixed(1) + ',' + (h - 1 - (v / max) * (h - 2)).toFixed(1);
    }).join(' '));
  }
  function push(list, v) { list.push(v); if (list.length > HISTORY) list.shift(); }
  function showError(text) { $('action-error').textContent = text || ''; }
  function post(path, body) {
    return fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-ferry-csrf': csrf },
      body: JSON.stringify(body || {}),
    }).then(function (res) {
      if (res.status === 401) { location.assign('/console/login'); throw new Error('signed out'); }
      return res.json().then(function (json) {
        if (!res.ok) throw new Error(json.error || ('HTTP ' + res.status));
        return json;
      });
    });
  }

  function sinkRow(id) {
    var body = document.querySelector('#sinks tbody');
    var row = body.querySelector('tr[data-sink="' + CSS.escape(id) + '"]');
    if (row) return row;
    row = document.createElement('tr');
    row.setAttribute('data-sink', id);
    cell(row, 'id').textContent = id;
    ['mode', 'breaker'].forEach(function (c) { cell(row, c); });
    ['delivered-rate', 'retried-rate', 'deadlettered-rate', 'deduplicated-rate', 'delivered', 'freshness',
      'inflight', 'buffered', 'waiting'].forEach(function (c) { cell(row, c, 'num'); });
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('width', '120');
    svg.setAttribute('height', '22');
    svg.setAttribute('viewBox', '0 0 120 22');
    cell(row, 'spark').appendChild(svg);
    var button = document.createElement('button');
    button.type = 'button';
    button.setAttribute('data-action', 'pause');
    button.addEventListener('click', function () {
      var action = button.getAttribute('data-action');
      button.disabled = true;
      post('/console/api/sinks/' + encodeURIComponent(id) + '/' + action).then(function (s) {
        showError('');
        pill(cell(row, 'mode'), s.mode);
        setButton(button, s.mode);
      }, function (e) { showError(action + ' ' + id + ': ' + e.message); }).then(function () { button.disabled = false; });
    });
    cell(row, 'action').appendChild(button);
    body.appendChild(row);
    return row;
  }
  function setButton(button, mode) {
    var action = mode === 'paused' ? 'resume' : 'pause';
    button.setAttribute('data-action', action);
    button.textContent = action === 'pause' ? 'Pause' : 'Resume';
  }

  function render(snap) {
    var dt = prev ? (snap.at - prev.at) / 1000 : 0;
    var before = {};
    if (prev) prev.sinks.forEach(function (s) { before[s.id] = s; });
    var ready = $('ready');
    ready.textContent = snap.ready ? 'ready' : 'not ready';
    ready.className = 'pill ' + (snap.ready ? 'ready' : 'notready');
    ready.title = snap.reason || '';
    var sumRate = 0, sumDelivered = 0, sumInflight = 0, freshSum = 0, freshCount = 0;
    var parkedBody = document.querySelector('#parked tbody');
    parkedBody.textContent = '';
    var waiting = 0;
    snap.sinks.forEach(function (s) {
      var row = sinkRow(s.id);
      var b = before[s.id];
      var rate = function (field) { return b && dt > 0 ? Math.max(0, s[field] - b[field]) / dt : null; };
      var delivered = rate('delivered');
      pill(cell(row, 'mode'), s.mode);
      pill(cell(row, 'breaker'), s.breaker);
      cell(row, 'delivered-rate').textContent = num(delivered);
      cell(row, 'retried-rate').textContent = num(rate('retried'));
      cell(row, 'deadlettered-rate').textContent = num(rate('deadlettered'));
      cell(row, 'deduplicated-rate').textContent = num(rate('deduplicated'));
      cell(row, 'delivered').textContent = String(s.delivered);
      var dc = b ? s.freshnessCount - b.freshnessCount : 0;
      var ds = b ? s.freshnessSum - b.freshnessSum : 0;
      cell(row, 'freshness').textContent = dc > 0 ? seconds(ds / dc) : '–';
      cell(row, 'inflight').textContent = String(s.inFlight);
      cell(row, 'buffered').textContent = String(s.buffered);
      cell(row, 'waiting').textContent = String(s.waitingKeys);
      setButton(row.querySelector('button'), s.mode);
      if (delivered !== null) {
        series[s.id] = series[s.id] || [];
        push(series[s.id], delivered);
        spark(row.querySelector('svg'), series[s.id]);
        sumRate += delivered;
      }
      sumDelivered += s.delivered;
      sumInflight += s.inFlight;
      freshSum += ds; freshCount += dc;
      waiting += s.waitingKeys;
      s.parkedKeys.forEach(function (k) {
        var tr = document.createElement('tr');
        [s.id, k.key, k.reason, new Date(k.until).toLocaleTimeString()].forEach(function (t) {
          var td = document.createElement('td'); td.textContent = t; tr.appendChild(td);
        });
        parkedBody.appendChild(tr);
      });
    });
    $('parked-none').hidden = waiting > 0;
    var list = $('dlq-codes');
    if (list) {
      var seen = {};
      snap.sinks.forEach(function (s) { Object.keys(s.deadletteredByCode).forEach(function (c) { seen[c] = true; }); });
      var known = Object.keys(seen).sort();
      if (list.getAttribute('data-codes') !== known.join(',')) {
        list.setAttribute('data-codes', known.join(','));
        list.textContent = '';
        known.forEach(function (c) { var o = document.createElement('option'); o.value = c; list.appendChild(o); });
      }
    }
    if (prev) { push(total, sumRate); spark($('total-spark'), total); $('total-rate').textContent = num(sumRate); }
    $('total-delivered').textContent = String(sumDelivered);
    $('total-inflight').textContent = String(sumInflight);
    $('total-freshness').textContent = freshCount > 0 ? seconds(freshSum / freshCount) : '–';
    var lagBody = document.querySelector('#lag tbody');
    lagBody.textContent = '';
    snap.partitions.forEach(function (p) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-partition', p.topic + '/' + p.partition);
      [[p.topic, ''], [String(p.partition), 'num'], [p.lag === null ? '–' : String(p.lag), 'num'],
        [String(p.pending), 'num'], [p.paused ? 'paused' : '', '']].forEach(function (c) {
        var td = document.createElement('td'); td.textContent = c[0]; td.className = c[1]; tr.appendChild(td);
      });
      lagBody.appendChild(tr);
    });
    prev = snap;
  }

  function poll() {
    fetch('/console/api/live', { credentials: 'same-origin', cache: 'no-store' }).then(function (res) {
      if (res.status === 401) { location.assign('/console/login'); return; }
      return res.json().then(function (snap) { $('status').textContent = ''; render(snap); });
    }).catch(function () {
      $('status').textContent = 'relay unreachable, retrying';
    }).then(function () { setTimeout(poll, 1000); });
  }
  poll();

  var form = $('dlq-form');
  if (!form) return;
  var lastQuery = null;
  function query() {
    var q = { sink: $('dlq-sink').value, limit: Number($('dlq-limit').value) || 200 };
    var code = $('dlq-code').value.trim();
    if (code) q.code = code;
    if ($('dlq-from').value) q.from = new Date($('dlq-from').value).toISOString();
    if ($('dlq-to').value) q.to = new Date($('dlq-to').value).toISOString();
    return q;
  }
  function showItems(items) {
    var body = document.querySelector('#dlq tbody');
    body.textContent = '';
    items.forEach(function (i) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-event', i.eventId);
      [i.eventId, i.topic + '/' + i.partition + '@' + i.offset + (i.pointer ? ' (pointer)' : ''), i.code,
        new Date(i.failedAt).toLocaleString(), i.outcome || (i.missing ? 'missing' : '')].forEach(function (t) {
        var td = document.createElement('td'); td.textContent = t; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var q = query();
    // The confirmed replay takes exactly this window: what was shown, not what failed since.
    if (!q.to) q.to = new Date().toISOString();
    $('dlq-summary').textContent = 'reading the DLQ…';
    $('replay-confirm-box').hidden = true;
    post('/console/api/dlq/search', q).then(function (report) {
      showError('');
      lastQuery = q;
      $('dlq-summary').textContent = report.matched + ' dead letter(s) match (' + report.scanned +
        ' scanned)' + (report.items.length < report.matched ? ', first ' + report.items.length + ' shown' : '');
      showItems(report.items);
      if (report.matched > 0) {
        $('replay-question').textContent = 'Send these ' + report.matched + ' record(s) to ' + q.sink + ' again?';
        $('replay-confirm-box').hidden = false;
      }
    }, function (e) { $('dlq-summary').textContent = ''; showError('dry run: ' + e.message); });
  });
  $('replay-cancel').addEventListener('click', function () { $('replay-confirm-box').hidden = true; });
  $('replay-confirm').addEventListener('click', function () {
    if (!lastQuery) return;
    $('replay-confirm-box').hidden = true;
    post('/console/api/dlq/replay', lastQuery).then(function () { showError(''); watchReplay(); },
      function (e) { showError('replay: ' + e.message); });
  });
  function watchReplay() {
    $('replay-progress-box').hidden = false;
    fetch('/console/api/dlq/replay', { credentials: 'same-origin', cache: 'no-store' }).then(function (res) {
      return res.json();
    }).then(function (job) {
      if (!job) return;
      var p = job.progress;
      var done = Object.keys(p.outcomes).reduce(function (n, k) { return n + p.outcomes[k]; }, 0);
      $('replay-progress').max = Math.max(1, p.matched);
      $('replay-progress').value = done;
      var parts = Object.keys(p.outcomes).map(function (k) { return k + ' ' + p.outcomes[k]; });
      $('replay-status').textContent = (job.running ? 'replaying: ' : job.failed ? 'failed: ' : 'done: ') +
        done + ' of ' + p.matched + (parts.length ? ' (' + parts.join(', ') + ')' : '');
      $('replay-status').setAttribute('data-state', job.running ? 'running' : job.failed ? 'failed' : 'done');
      if (job.report) showItems(job.report.items);
      if (job.running) setTimeout(watchReplay, 500);
    }, function () { setTimeout(watchReplay, 1000); });
  }
})();
`;
