/* pypeek's HTML report: draws the data pypeek aggregated (the JSON in #pypeek-data) as SVG
   charts, each with its numbers in a table. Inline in every report (cmake/embed_assets.cmake).
   Strings from the target only ever reach the page through textContent and setAttribute, so
   a type named like markup renders as text. No network, no library. */
(function () {
  'use strict';
  var t0 = performance.now();
  var SVGNS = 'http://www.w3.org/2000/svg';
  var D = JSON.parse(document.getElementById('pypeek-data').textContent);
  var app = document.getElementById('app');
  app.textContent = '';

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function count(n) {
    if (n === null || n === undefined) return '?';
    return Number(n).toLocaleString('en-US');
  }
  function bytes(n) {
    if (n === null || n === undefined) return '?';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], v = Number(n), i = 0;
    while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return i ? v.toFixed(1) + ' ' + u[i] : v + ' B';
  }
  function section(title, id) {
    var s = add(app, el('section', {id: id}));
    add(s, el('h2', {}, title));
    return s;
  }
  function fit(text, width) {
    var max = Math.floor(width / 6.5);
    if (max < 3) return '';
    return text.length <= max ? text : text.slice(0, max - 1) + '\u2026';
  }

  /* A table; cols: [{h: header, num: bool, f: format}]; rows: arrays. Sortable by any column
     (numbers descending first). Rows are built in one fragment (10,000 rows stay fast). */
  function table(parent, cols, rows, opts) {
    opts = opts || {};
    var wrap = add(parent, el('div', {'class': rows.length > 20 ? 'scroll' : ''}));
    var t = add(wrap, el('table', opts.id ? {id: opts.id} : {}));
    var tr = add(add(t, el('thead')), el('tr'));
    var body = add(t, el('tbody'));
    var ths = cols.map(function (c, i) {
      var th = add(tr, el('th', {'class': (c.num ? 'num ' : '') + (opts.sortable ? 'sortable' : ''),
                                 'data-col': i}, c.h));
      return th;
    });
    var shown = Math.min(rows.length, opts.limit || 1000), more = null;
    function fill() {
      var frag = document.createDocumentFragment();
      rows.slice(0, shown).forEach(function (r) {
        var row = el('tr');
        cols.forEach(function (c, i) {
          var v = r[i];
          add(row, el('td', {'class': c.num ? 'num' : (c.pre ? 'name stack' : c.name ? 'name' : '')},
                      c.f ? c.f(v, r) : (v === null || v === undefined ? '' : v)));
        });
        frag.appendChild(row);
      });
      body.textContent = '';
      body.appendChild(frag);
      if (more && shown >= rows.length) { more.remove(); more = null; }
    }
    if (shown < rows.length) {
      more = add(parent, el('button', {type: 'button', 'class': 'more'},
                            'show all ' + count(rows.length) + ' rows (' + count(shown) +
                            ' shown; sorting sorts all)'));
      more.addEventListener('click', function () { shown = rows.length; fill(); });
    }
    if (opts.sortable) {
      ths.forEach(function (th, i) {
        th.addEventListener('click', function () {
          var desc = th.getAttribute('aria-sort') !== 'descending';
          if (!cols[i].num) desc = th.getAttribute('aria-sort') === 'ascending';
          rows.sort(function (a, b) {
            var x = a[i], y = b[i];
            var c = cols[i].num ? (x - y) : String(x).localeCompare(String(y));
            return desc ? -c : c;
          });
          ths.forEach(function (o) { o.removeAttribute('aria-sort'); });
          th.setAttribute('aria-sort', desc ? 'descending' : 'ascending');
          fill();
        });
      });
    }
    fill();
    return t;
  }

  /* Horizontal bars: items [[label, value, hover]]. */
  function bars(parent, items, id) {
    var w = 900, lw = 260, bh = 18, max = 0;
    items.forEach(function (it) { max = Math.max(max, it[1]); });
    var s = add(parent, sv('svg', {width: w, height: items.length * (bh + 4) + 4,
                                   viewBox: '0 0 ' + w + ' ' + (items.length * (bh + 4) + 4),
                                   'class': 'chart', id: id, role: 'img'}));
    items.forEach(function (it, i) {
      var y = 2 + i * (bh + 4), bw = max ? Math.max(1, (w - lw - 240) * it[1] / max) : 1;
      add(s, sv('text', {x: lw - 6, y: y + 13, 'text-anchor': 'end'}, fit(String(it[0]), lw)));
      var r = add(s, sv('rect', {x: lw, y: y, width: bw, height: bh, 'class': 'bar',
                                  'data-name': it[0], 'data-value': it[1]}));
      add(r, sv('title', {}, it[0] + ': ' + (it[2] || count(it[1]))));
      add(s, sv('text', {x: lw + bw + 6, y: y + 13}, it[2] || count(it[1])));
    });
    return s;
  }

  /* Header facts */
  var h = D.header || {};
  document.title = 'pypeek report: pid ' + h.pid;
  add(app, el('h1', {}, 'pypeek report: pid ' + h.pid + ' (' + (h.exe || '?') + ')'));
  var dl = add(app, el('dl', {'class': 'facts', id: 'facts'}));
  function fact(k, v) { add(dl, el('dt', {}, k)); add(dl, el('dd', {}, v)); }
  fact('CPython', h.python_version);
  fact('taken at', h.samples > 1 ? h.first_taken_at + ' .. ' + h.taken_at + ' (' + h.samples +
       ' snapshots)' : h.taken_at);
  fact('RSS', bytes(h.rss_bytes) + ' (peak ' + bytes(h.hwm_bytes) + ')');
  fact('GC-tracked objects', count(h.objects) + ' (' + bytes(h.objects_bytes) + ')');
  fact('GC', h.gc_enabled === false ? 'disabled' : 'enabled');
  fact('open fds', count(h.fds));
  fact('pause', h.pause_us === null ? '?' : (h.pause_us / 1000).toFixed(1) + ' ms' +
       (h.consistent === false ? ' (inconsistent)' : ''));
  fact('layout', h.layout_source);
  (h.warnings || []).forEach(function (w) {
    add(app, el('p', {'class': 'warn'}, 'warning: ' + w));
  });

  /* Growth over snapshots */
  if (D.growth) {
    var gr = section('Growth over ' + D.growth.times.length + ' snapshots', 'growth');
    add(gr, el('p', {'class': 'note'}, count(D.growth.suspects) + ' leak suspect(s) (watch\'s ' +
        'rule: grew in 80% of the intervals and by --min-growth); the suspects first, then ' +
        'the types that changed most.'));
    var box = add(gr, el('div', {'class': 'growth', id: 'growth-charts'}));
    var times = D.growth.times, tmax = times[times.length - 1] || 1;
    D.growth.series.forEach(function (s) {
      var d = add(box, el('div', {'class': 'spark' + (s.suspect ? ' suspect' : ''),
                                  'data-name': s.name}));
      var cap = add(d, el('div', {'class': 'cap'}));
      if (s.suspect) add(cap, el('span', {'class': 'badge'}, 'leak suspect'));
      add(cap, el('span', {}, s.name));
      var lo = Math.min.apply(null, s.counts), hi = Math.max.apply(null, s.counts);
      var W2 = 236, H2 = 60, pts = s.counts.map(function (c, i) {
        return (W2 * times[i] / tmax).toFixed(1) + ',' +
               (hi > lo ? (H2 - 4 - (H2 - 8) * (c - lo) / (hi - lo)) : H2 / 2).toFixed(1);
      }).join(' ');
      var g2 = add(d, sv('svg', {width: W2, height: H2, viewBox: '0 0 ' + W2 + ' ' + H2}));
      add(add(g2, sv('polyline', {points: pts})), sv('title', {}, s.name + ': ' +
          s.counts.map(count).join(' \u2192 ')));
      add(d, el('div', {'class': 'note'}, count(s.counts[0]) + ' \u2192 ' +
          count(s.counts[s.counts.length - 1]) +
          (s.suspect ? ', ' + s.per_minute.toFixed(1) + ' per minute' : '')));
    });
    add(gr, el('h3', {}, 'The same numbers'));
    table(gr, [{h: 'type', name: 1}, {h: 'suspect', f: function (v) { return v ? 'yes' : ''; }}]
               .concat(times.map(function (t) { return {h: '+' + t.toFixed(1) + ' s', num: 1,
                                                         f: count}; })),
          D.growth.series.map(function (s) { return [s.name, s.suspect].concat(s.counts); }),
          {id: 'growth-table'});
  }

  /* Retained memory: an icicle, roots -> what each names -> types, width = bytes. */
  var rs = section('Retained memory: module globals and thread frame locals', 'retained');
  if (!D.retained) {
    add(rs, el('p', {'class': 'note'}, 'This snapshot has no object graph (watch samples do not ' +
                                         'take it; --no-graph; or it could not be read).'));
  } else {
    var total = 0;
    D.retained.forEach(function (r) { total += r.b; });
    add(rs, el('p', {'class': 'note'}, 'Bytes only reachable through each root (its dominator ' +
        'subtree), ' + bytes(total) + ' in all. Hover for exact figures.'));
    var W = 1140, RH = 40, g = add(rs, sv('svg', {width: W, height: 3 * RH + 2, id: 'icicle',
                                                 viewBox: '0 0 ' + W + ' ' + (3 * RH + 2),
                                                 role: 'img'}));
    var x = 0, rows = [];
    D.retained.forEach(function (r) {
      var w = total ? W * r.b / total : 0;
      var tip = r.n + ' (' + r.k + ')\n' + count(r.b) + ' bytes (' + bytes(r.b) + ')';
      var a = add(g, sv('rect', {x: x, y: 0, width: w, height: RH, 'class': 'root',
                                 'data-name': r.n, 'data-bytes': r.b}));
      add(a, sv('title', {}, tip));
      add(g, sv('text', {x: x + 3, y: 16}, fit(r.n, w)));
      add(g, sv('text', {x: x + 3, y: 31}, fit(bytes(r.b), w)));
      if (r.c) {
        var c = add(g, sv('rect', {x: x, y: RH, width: w, height: RH, 'class': 'container',
                                   'data-name': r.c}));
        add(c, sv('title', {}, r.n + ' is a ' + r.c + '\n' + count(r.b) + ' bytes retained'));
        add(g, sv('text', {x: x + 3, y: RH + 16}, fit(r.c, w)));
      }
      var tx = x;
      r.t.forEach(function (t) {
        var tw = total ? W * t[1] / total : 0;
        var tr = add(g, sv('rect', {x: tx, y: 2 * RH, width: tw, height: RH, 'class': 'type',
                                    'data-name': t[0], 'data-bytes': t[1]}));
        add(tr, sv('title', {}, r.n + ' > ' + (r.c || '') + ' > ' + t[0] + '\n' + count(t[1]) +
                   ' bytes (' + bytes(t[1]) + '), ' + count(t[2]) + ' objects'));
        add(g, sv('text', {x: tx + 3, y: 2 * RH + 16}, fit(t[0], tw)));
        tx += tw;
        rows.push([r.n, r.c, t[0], t[2], t[1]]);
      });
      x += w;
    });
    add(rs, el('h3', {}, 'The same numbers'));
    table(rs, [{h: 'root', name: 1}, {h: 'the root names a', name: 1}, {h: 'retained type', name: 1},
               {h: 'objects', num: 1, f: count}, {h: 'bytes', num: 1, f: count}],
          rows, {sortable: true, id: 'retained-table'});
  }

  /* Types */
  var ts = section('Objects by type', 'types');
  add(ts, el('p', {'class': 'note'}, 'GC-tracked instances (count, sys.getsizeof bytes) and the ' +
      'untracked ones reachable from them. Click a column to sort.' +
      (D.types_omitted ? ' ' + count(D.types_omitted) + ' more types not shown.' : '')));
  bars(ts, D.types.slice().sort(function (a, b) { return b[2] - a[2]; }).slice(0, 15)
    .map(function (t) { return [t[0], t[2], bytes(t[2]) + ', ' + count(t[1]) + ' objects']; }),
       'types-chart');
  table(ts, [{h: 'type', name: 1}, {h: 'count', num: 1, f: count}, {h: 'bytes', num: 1, f: count},
             {h: 'untracked', num: 1, f: count}, {h: 'untracked bytes', num: 1, f: count},
             {h: 'exact size', f: function (v) { return v ? 'yes' : '~'; }}],
        D.types, {sortable: true, id: 'types-table'});

  /* GC */
  var gs = section('Garbage collector', 'gc');
  if (D.gc) {
    bars(gs, D.gc.generations.map(function (g, i) { return ['generation ' + i, g[0] || 0]; }),
         'gc-chart');
    table(gs, [{h: 'generation'}, {h: 'objects', num: 1, f: count}, {h: 'threshold', num: 1},
               {h: 'count', num: 1}, {h: 'collections', num: 1, f: count},
               {h: 'collected', num: 1, f: count}, {h: 'uncollectable', num: 1, f: count}],
          D.gc.generations.map(function (g, i) { return [i].concat(g); }), {id: 'gc-table'});
    add(gs, el('p', {}, 'permanent generation (gc.freeze): ' + count(D.gc.permanent) +
               ' objects; gc.garbage: ' + count(D.gc.garbage) + ' objects'));
    if (D.gc.garbage_types.length) {
      add(gs, el('h3', {}, 'gc.garbage by type'));
      table(gs, [{h: 'type', name: 1}, {h: 'count', num: 1, f: count},
                 {h: 'bytes', num: 1, f: count}], D.gc.garbage_types, {sortable: true});
    }
    var un = D.gc.unreachable;
    if (un) {
      add(gs, el('h3', {}, 'Unreachable cycles: what the next full collection would free'));
      add(gs, el('p', {}, count(un.objects) + ' objects, ' + bytes(un.bytes) +
                 (un.complete === false ? ' (incomplete)' : '')));
      bars(gs, un.types.slice(0, 15).map(function (t) { return [t[0], t[2], bytes(t[2])]; }),
           'unreachable-chart');
      table(gs, [{h: 'type', name: 1}, {h: 'count', num: 1, f: count},
                 {h: 'bytes', num: 1, f: count}, {h: 'with finalizers', num: 1, f: count}],
            un.types, {sortable: true, id: 'unreachable-table'});
    }
  }

  /* Threads, when the snapshot has them */
  if (D.threads) {
    var th = section('Threads', 'threads');
    table(th, [{h: 'tid', num: 1}, {h: 'name', name: 1}, {h: 'state'},
               {h: 'GIL', f: function (v) { return v ? 'holds it' : ''; }},
               {h: 'Python stack (innermost first)', pre: 1}],
          D.threads.map(function (t) {
            return [t.tid, t.name, t.state, t.gil, t.frames.map(function (f) {
              return f[0] + ' (' + f[1] + ':' + f[2] + ')';
            }).join('\n')];
          }), {id: 'threads-table'});
  }

  /* File descriptors */
  var fs = section('Open file descriptors', 'fds');
  if (!D.fds) {
    add(fs, el('p', {'class': 'note'}, 'Not read in this snapshot.'));
  } else {
    add(fs, el('p', {}, count(D.fds.count) + ' open of ' + (D.fds.limit === null ? 'unlimited' :
               count(D.fds.limit)) + ' allowed; ' + count(D.fds.unowned) +
               ' held by no Python object'));
    bars(fs, D.fds.kinds.slice().sort(function (a, b) { return b[1] - a[1]; }), 'fds-chart');
    table(fs, [{h: 'kind', name: 1}, {h: 'fds', num: 1, f: count}], D.fds.kinds,
          {sortable: true, id: 'fd-kinds-table'});
    table(fs, [{h: 'fd', num: 1}, {h: 'kind'}, {h: 'target', name: 1},
               {h: 'owner', name: 1, f: function (v) { return v.join('; '); }}],
          D.fds.items, {sortable: true, id: 'fds-table'});
  }

  document.documentElement.setAttribute('data-render-ms', String(Math.round(performance.now() -
                                                                           t0)));
})();
