// Turns results into the stdout tables, BENCHMARKS.md and bench/chart.svg. Every figure is a
// median with its min–max over the rounds; every ratio is taken within a round, then summarized.
import { fmt, fmtRange, summarize } from './stats.mjs';
import { TARGETS } from './sections.mjs';

/** @typedef {import('./runner.mjs').BenchResult} BenchResult */
/** @typedef {import('./runner.mjs').SubjectResult} SubjectResult */
/** @typedef {import('./runner.mjs').Measurement} Measurement */
/**
 * @typedef {object} SocketResult
 * @property {string} [error]
 * @property {number} [rounds]
 * @property {number} [ms]
 * @property {Record<string, Record<string, number[]>>} [bulk]   bytes/s by write size, then kind
 * @property {Record<string, number[]>} [pingPongUs]             median round trip per round, by kind
 */
/** @typedef {{headers: string[], rows: string[][]}} Table */

const KIND_LABEL = { tcp: '(a) loopback TCP pair', naive: '(b) naive Duplex pair', il: '(c) @il/core pair' };

/** @param {BenchResult} br @param {string} id */
const find = (br, id) => br.subjects.find((s) => s.subject.id === id);

/** Per-round figure of a subject, only from rounds that succeeded. */
function figures(/** @type {SubjectResult} */ s, /** @type {keyof Measurement} */ key) {
  return s.rounds.map((m) => (m?.ok ? /** @type {number | undefined} */ (m[key]) : undefined)).filter((x) => x !== undefined);
}

/** Median (min–max) over rounds of subject/peer throughput, each ratio from one round. */
export function ratio(/** @type {BenchResult} */ br, /** @type {string} */ subjectId, /** @type {string} */ peerId) {
  const s = find(br, subjectId);
  const p = find(br, peerId);
  if (!s || !p) return undefined;
  /** @type {number[]} */
  const r = [];
  s.rounds.forEach((m, i) => {
    const q = p.rounds[i];
    if (m?.ok && q?.ok && m.throughput && q.throughput) r.push(m.throughput / q.throughput);
  });
  return summarize(r);
}

/** Why a subject has no figure, or undefined if it has one. */
function absence(/** @type {SubjectResult | undefined} */ s) {
  if (!s) return 'not in this run';
  if (s.unavailable) return `unavailable: ${s.unavailable}`;
  if (!s.rounds.some((m) => m?.ok)) return `failed: ${s.rounds.find((m) => m?.error)?.error ?? 'no round ran'}`;
  return undefined;
}

/** @param {SubjectResult} s */
function failures(s) {
  const failed = s.rounds.filter((m) => m && !m.ok);
  return failed.length ? ` [${failed.length} of ${s.rounds.length} rounds failed: ${failed[0]?.error}]` : '';
}

/** The table of one bench. @param {BenchResult} br @returns {Table} */
export function benchTable(br) {
  const { bench } = br;
  const peerCols = bench.peers.map((p) => `× ${p}`);
  /** @type {string[]} */
  let headers;
  const bytes = bench.load === 'iperf3' || bench.load === 'tls-push';
  if (bytes) headers = ['subject', 'Gbit/s', ...peerCols, 'CPU s/GB', 'peak RSS MiB'];
  else if (bench.load === 'tls-handshakes') headers = ['subject', 'handshakes/s', ...peerCols, 'CPU ms/1k handshakes', 'peak RSS MiB'];
  else if (bench.load === 'idle') headers = ['subject', 'tunnels', 'RSS growth KiB/tunnel', 'peak RSS MiB'];
  else headers = ['subject', 'req/s', 'p50 ms', 'p99 ms', ...peerCols, 'CPU ms/1k req', 'peak RSS MiB'];
  const rows = br.subjects.map((s) => {
    const why = absence(s);
    if (why) return [s.subject.label, why, ...headers.slice(2).map(() => '—')];
    const sum = (/** @type {keyof Measurement} */ k, digits = 2) => fmtRange(summarize(figures(s, k)), digits);
    const ratios = bench.peers.map((p) => (p === s.subject.id ? '1 (peer)' : fmtRange(ratio(br, s.subject.id, p))));
    const label = s.subject.label + failures(s);
    if (bytes) return [label, sum('throughput'), ...ratios, sum('cpuPerUnit'), sum('rssMiB', 1)];
    if (bench.load === 'tls-handshakes') return [label, sum('throughput', 0), ...ratios, sum('cpuPerUnit'), sum('rssMiB', 1)];
    if (bench.load === 'idle') return [label, fmt(summarize(figures(s, 'tunnels'))?.median, 0), sum('kibPerTunnel', 1), sum('rssMiB', 1)];
    return [label, sum('throughput', 0), sum('p50Ms'), sum('p99Ms'), ...ratios, sum('cpuPerUnit'), sum('rssMiB', 1)];
  });
  return { headers, rows };
}

/**
 * The route-matching table (bench/routes/route-match.mjs): ns per request for each kind, and what
 * one hostile path costs each engine. @param {any} rr
 */
export function routeTables(rr) {
  if (rr.error || !rr.nsPerRequest) return [{ headers: ['route matching microbenchmark'], rows: [[`failed: ${rr.error ?? 'no result'}`]] }];
  const labels = {
    'prefix-route-table': `${rr.routes} prefix routes (route table)`,
    're2-route-table': `${rr.routes} safe_regex routes (route table, RE2)`,
    'js-regexp-patterns': `the same ${rr.routes} patterns, JavaScript RegExp (the engine before)`,
  };
  const rows = Object.entries(labels).map(([kind, label]) => [label, fmtRange(summarize(rr.nsPerRequest[kind] ?? []), 0)]);
  const h = rr.hostile;
  return [
    { headers: ['request hitting the last route', 'ns per request'], rows },
    {
      headers: ['hostile path against "/(a+)+b"', 'RE2 (now)', 'JavaScript RegExp (before)'],
      rows: [
        ['"/" + 30 x "a" + "c" (32 bytes)', `${fmt(h.re2Path32Ms, 2)} ms`, `~${fmt(h.regexpPath32MsExtrapolated / 1000, 0)} s (measured ${fmt(h.regexpPath22Ms, 0)} ms at 20 "a"s, x2 per "a")`],
        ['"/" + 64 Ki x "a" + "c"', `${fmt(h.re2Path64KiBMs, 2)} ms`, 'never finishes'],
      ],
    },
  ];
}

/** The socket pair tables: bulk per write size, ping-pong per kind. @param {SocketResult} sr */
export function socketTables(sr) {
  if (sr.error || !sr.bulk || !sr.pingPongUs) return [{ headers: ['socket pair microbenchmark'], rows: [[`failed: ${sr.error ?? 'no result'}`]] }];
  const gbit = (/** @type {number[]} */ v) => fmtRange(summarize(v.map((x) => (x * 8) / 1e9)));
  const bulkRows = Object.entries(sr.bulk).map(([size, k]) => [
    `${Number(size) / 1024} KiB`,
    gbit(k.tcp ?? []),
    gbit(k.naive ?? []),
    gbit(k.il ?? []),
    fmtRange(socketRatio(sr, size, 'naive')),
    fmtRange(socketRatio(sr, size, 'tcp')),
  ]);
  const pingRows = Object.entries(sr.pingPongUs).map(([kind, v]) => {
    const s = summarize(v);
    return [KIND_LABEL[/** @type {keyof typeof KIND_LABEL} */ (kind)] ?? kind, fmtRange(s, 1), fmtRange(s && { median: s.median / 2, min: s.min / 2, max: s.max / 2 }, 1)];
  });
  return [
    { headers: ['write size', '(a) TCP pair Gbit/s', '(b) naive pair Gbit/s', '(c) @il/core pair Gbit/s', '(c)/(b)', '(c)/(a)'], rows: bulkRows },
    { headers: ['pair', 'ping-pong round trip µs', 'per hop µs (round trip / 2)'], rows: pingRows },
  ];
}

/** Ratio of the @il/core pair to another kind, per round, at one write size. */
function socketRatio(/** @type {SocketResult} */ sr, /** @type {string} */ size, /** @type {string} */ other) {
  const k = sr.bulk?.[size];
  if (!k?.il || !k[other]) return undefined;
  return summarize(k.il.map((x, i) => x / /** @type {number} */ ((/** @type {number[]} */ (k[other]))[i])));
}

/**
 * Every target of the issues against this run's figures.
 * @param {BenchResult[]} results @param {SocketResult | undefined} socket
 * @returns {{issue: string, text: string, measured: string, status: 'met' | 'not met' | 'unmeasured'}[]}
 */
export function evaluateTargets(results, socket) {
  return TARGETS.map((t) => {
    const out = (/** @type {string} */ measured, /** @type {'met' | 'not met' | 'unmeasured'} */ status) => ({ issue: t.issue, text: t.text, measured, status });
    // "≥ min", "≤ max" for memory ceilings, "< max" for the rest (latency, per-tunnel growth)
    const check = (/** @type {number} */ v) =>
      t.min !== undefined ? v >= t.min : t.metric === 'rssMiB' ? v <= /** @type {number} */ (t.max) : v < /** @type {number} */ (t.max);
    if (t.socket) {
      if (!socket?.bulk || !socket.pingPongUs) return out(socket ? `socket bench failed: ${socket.error}` : 'not in this run', 'unmeasured');
      if (t.socket === 'hop-latency') {
        const s = summarize(socket.pingPongUs.il ?? []);
        if (!s) return out('no ping-pong figure', 'unmeasured');
        return out(`${fmt(s.median / 2, 1)} µs per hop (round trip ${fmt(s.median, 1)} µs)`, check(s.median / 2) ? 'met' : 'not met');
      }
      const other = t.socket === 'il-vs-naive' ? 'naive' : 'tcp';
      const per = Object.keys(socket.bulk).map((size) => ({ size, r: socketRatio(socket, size, other) }));
      const text = per.map(({ size, r }) => `${Number(size) / 1024} KiB ${fmt(r?.median)}×`).join(', ');
      return out(text, per.every(({ r }) => r && check(r.median)) ? 'met' : 'not met');
    }
    const br = results.find((r) => r.bench.id === t.bench);
    if (!br) return out('not in this run', 'unmeasured');
    const s = find(br, /** @type {string} */ (t.subject));
    const why = absence(s) ?? (t.peer ? absence(find(br, t.peer)) : undefined);
    if (why) return out(why, 'unmeasured');
    if (t.peer) {
      const r = ratio(br, /** @type {string} */ (t.subject), t.peer);
      if (!r) return out('no round with both figures', 'unmeasured');
      return out(`${fmt(r.median)}× (${fmt(r.min)}–${fmt(r.max)})`, check(r.median) ? 'met' : 'not met');
    }
    const m = summarize(figures(/** @type {SubjectResult} */ (s), /** @type {keyof Measurement} */ (t.metric)));
    if (!m) return out('no figure', 'unmeasured');
    return out(fmtRange(m, t.metric === 'throughput' ? 0 : 1), check(m.median) ? 'met' : 'not met');
  });
}

// ------------------------------------------------------------------ rendering

/**
 * A plain-text table with aligned columns. A cell that says why a subject has no figure is
 * shortened to its first word in the table and written out in full below it.
 * @param {Table} t
 */
export function textTable(t) {
  /** @type {string[]} */
  const notes = [];
  t = {
    headers: t.headers,
    rows: t.rows.map((r) =>
      r.map((c, i) => {
        const m = /^(unavailable|failed|not run): /.exec(c);
        if (i === 0 || !m?.[1]) return c;
        notes.push(`  ${r[0]}: ${c}`);
        return m[1];
      }),
    ),
  };
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const numeric = numericColumns(t);
  const line = (/** @type {string[]} */ cells) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(/** @type {number} */ (widths[i])) : c.padEnd(/** @type {number} */ (widths[i])))).join('  ').trimEnd();
  return [line(t.headers), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line), ...notes].join('\n');
}

/** Columns of figures are right-aligned, columns of words left-aligned. @param {Table} t */
function numericColumns(t) {
  return t.headers.map((_, i) => i > 0 && t.rows.every((r) => /^([\d—]|1 \(peer\)|unavailable|failed|not run)/.test(r[i] ?? '')));
}

/** @param {Table} t */
export function markdownTable(t) {
  const esc = (/** @type {string} */ c) => c.replace(/\|/g, '\\|');
  const numeric = numericColumns(t);
  return [
    `| ${t.headers.map(esc).join(' | ')} |`,
    `|${numeric.map((n) => (n ? ' ---: ' : ' --- ')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** The summary printed at the end of a run. */
export function textReport(/** @type {BenchResult[]} */ results, /** @type {SocketResult | undefined} */ socket, /** @type {any} */ routes = undefined) {
  const parts = [];
  if (socket) {
    parts.push('\n## User-space socket pair (in one Node process)');
    for (const t of socketTables(socket)) parts.push(textTable(t), '');
  }
  if (routes) {
    parts.push('\n## Route matching with regex routes (in one Node process)');
    for (const t of routeTables(routes)) parts.push(textTable(t), '');
  }
  for (const br of results) parts.push(`\n## ${br.bench.title}`, textTable(benchTable(br)));
  const targets = evaluateTargets(results, socket).filter((t) => t.measured !== 'not in this run');
  if (targets.length) {
    parts.push('\n## Targets');
    parts.push(textTable({ headers: ['target', 'status', 'measured'], rows: targets.map((t) => [t.text, t.status, t.measured]) }));
  }
  return parts.join('\n');
}

// ------------------------------------------------------------------ chart

const xmlEscape = (/** @type {string} */ s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A horizontal bar chart of the ratios: each bench's subjects against its first peer, and the
 * socket pair's (c)/(b) and (c)/(a). Bars show the median, whiskers min–max; the line is 1.0×.
 * @param {BenchResult[]} results @param {SocketResult | undefined} socket @param {string} caption
 */
export function chartSvg(results, socket, caption) {
  /** @type {({group: string} | {label: string, r?: {median: number, min: number, max: number}, why?: string})[]} */
  const items = [];
  if (socket?.bulk) {
    items.push({ group: 'user-space socket pair: (c) @il/core vs (b) naive / (a) TCP' });
    for (const size of Object.keys(socket.bulk)) {
      items.push({ label: `(c)/(b) at ${Number(size) / 1024} KiB writes`, r: socketRatio(socket, size, 'naive') });
    }
    for (const size of Object.keys(socket.bulk)) {
      items.push({ label: `(c)/(a) at ${Number(size) / 1024} KiB writes`, r: socketRatio(socket, size, 'tcp') });
    }
  }
  for (const br of results) {
    const peer = br.bench.peers[0];
    if (!peer) continue;
    const peerLabel = find(br, peer)?.subject.label ?? peer;
    items.push({ group: `${br.bench.title} — × ${peerLabel}` });
    for (const s of br.subjects) {
      const why = absence(s) ?? absence(find(br, peer));
      items.push(why ? { label: s.subject.label, why } : { label: s.subject.label, r: ratio(br, s.subject.id, peer) });
    }
  }
  const W = 980;
  const LABEL = 420;
  const BAR = 440;
  const ROW = 20;
  const MAX = 2.5; // ratios above are drawn to the edge with their value written
  const x = (/** @type {number} */ v) => LABEL + (Math.min(v, MAX) / MAX) * BAR;
  let y = 44;
  const body = [];
  for (const it of items) {
    if ('group' in it) {
      y += 10;
      body.push(`<text x="8" y="${y + 14}" font-weight="bold">${xmlEscape(it.group)}</text>`);
      y += ROW;
      continue;
    }
    // 412 px of label column fit about 60 characters of 12 px sans-serif.
    body.push(`<text x="${LABEL - 8}" y="${y + 14}" text-anchor="end">${xmlEscape(it.label.length > 60 ? `${it.label.slice(0, 59)}…` : it.label)}</text>`);
    if (it.r) {
      const { median, min, max } = it.r;
      const color = median >= 1 ? '#3a7d44' : '#b5562b';
      body.push(`<rect x="${LABEL}" y="${y + 3}" width="${(x(median) - LABEL).toFixed(1)}" height="${ROW - 6}" fill="${color}"/>`);
      body.push(`<line x1="${x(min).toFixed(1)}" x2="${x(max).toFixed(1)}" y1="${y + ROW / 2}" y2="${y + ROW / 2}" stroke="#222" stroke-width="1.5"/>`);
      body.push(`<text x="${(Math.max(x(median), x(max)) + 6).toFixed(1)}" y="${y + 14}">${fmt(median)}×${median > MAX ? ' →' : ''}</text>`);
    } else {
      const why = 'why' in it && it.why ? it.why : 'no figure';
      body.push(`<text x="${LABEL + 4}" y="${y + 14}" fill="#777" stroke="#fff" stroke-width="3" paint-order="stroke">${xmlEscape(why.length > 70 ? `${why.slice(0, 69)}…` : why)}</text>`);
    }
    y += ROW;
  }
  const H = y + 30;
  const grid = [0.5, 1, 1.5, 2, 2.5]
    .map(
      (v) =>
        `<line x1="${x(v)}" x2="${x(v)}" y1="40" y2="${y}" stroke="${v === 1 ? '#000' : '#ccc'}" stroke-width="${v === 1 ? 1.5 : 1}"${v === 1 ? '' : ' stroke-dasharray="3,3"'}/>` +
        `<text x="${x(v)}" y="${y + 16}" text-anchor="middle" fill="#555">${v}×</text>`,
    )
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="8" y="20" font-size="15" font-weight="bold">il benchmarks: throughput ratios, same round, same machine (median, whiskers min–max)</text>
<text x="8" y="36" fill="#555">${xmlEscape(caption)}</text>
${grid}
${body.join('\n')}
</svg>
`;
}

// ------------------------------------------------------------------ BENCHMARKS.md

/**
 * @param {{
 *   results: BenchResult[], socket: SocketResult | undefined,
 *   machine: ReturnType<typeof import('./machine.mjs').machineInfo> & {load: {start: number, max: number, end: number}},
 *   argv: string[], rounds: number, quick: boolean, started: Date, seconds: number, socketCommand: string,
 * }} o
 */
export function markdownReport(o) {
  const { results, socket, machine } = o;
  const L = [];
  L.push('# Benchmarks', '');
  L.push(
    `Written by \`node bench/run.mjs${o.argv.length ? ` ${o.argv.join(' ')}` : ''}\` (\`pnpm bench\`) on ${o.started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ` +
      `${o.rounds} round${o.rounds === 1 ? '' : 's'}${o.quick ? ' (--quick)' : ''}, ${(o.seconds / 60).toFixed(1)} minutes. Every figure is the median over the rounds with min–max ` +
      'in parentheses; every ratio is taken between two subjects of the same round, then summarized. Subjects are interleaved ' +
      'round by round (A B C A B C ...), each measurement with a freshly started subject and backend on free 127.0.0.1 ports. ' +
      'The chart of the ratios is [bench/chart.svg](bench/chart.svg).',
    '',
  );
  L.push('![ratios](bench/chart.svg)', '');
  L.push('## Machine', '');
  L.push(`- CPU: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB`);
  L.push(`- Kernel: ${machine.kernel}`);
  L.push(`- Node.js: ${machine.node}`);
  for (const [k, v] of Object.entries(machine.versions)) L.push(`- ${k}: ${v}`);
  L.push(
    `- Load average (1 min): ${machine.load.start.toFixed(2)} at the start of the run, ${machine.load.max.toFixed(2)} at most during it, ` +
      `${machine.load.end.toFixed(2)} at its end (the benchmark itself keeps about 2 busy). ` +
      'Anything else running on the machine (builds, tests) competes with the subjects for the 2 cores and widens the min–max ranges.',
  );
  L.push('');

  L.push('## Targets', '');
  L.push(
    markdownTable({
      headers: ['issue', 'target', 'measured', 'status'],
      rows: evaluateTargets(results, socket).map((t) => [t.issue, t.text, t.measured, t.status === 'met' ? '**met**' : t.status]),
    }),
    '',
  );

  if (socket) {
    L.push('## User-space socket pair (issue #2)', '');
    L.push(
      'One Node process (`' + o.socketCommand + '`). Bulk: one side writes fixed-size chunks for a fixed time, honouring ' +
        "`write()`'s backpressure, the other side counts what it reads. Ping-pong: 1 byte written, echoed by the other end; " +
        'the per-hop latency is half the median round trip, since a round trip crosses the pair twice (the echo turn of the ' +
        'event loop is included, so this overstates the hop).',
      '',
    );
    for (const t of socketTables(socket)) L.push(markdownTable(t), '');
  }

  if (o.routes) {
    L.push('## Route matching with regex routes (issue #13)', '');
    L.push(
      'One Node process (`node bench/routes/route-match.mjs`): route tables compiled by @il/http-connect from a config, matched ' +
        'against a request that reaches the last route. safe_regex is RE2 (re2js, linear time); the JavaScript RegExp row runs ' +
        'the same patterns with the backtracking engine il used before, on its own.',
      '',
    );
    for (const t of routeTables(o.routes)) L.push(markdownTable(t), '');
  }

  for (const br of results) {
    L.push(`## ${br.bench.title}`, '');
    L.push(`Load: \`${br.loadCommand}\`.${br.bench.peers.length ? ` Ratios: throughput ÷ the named peer's in the same round.` : ''}`, '');
    L.push(markdownTable(benchTable(br)), '');
  }

  L.push('## Method', '');
  L.push(
    '- CPU: utime + stime from `/proc/<pid>/stat` of every process in the subject\'s process group(s), read before and after the ' +
      'measured load (iperf3: the whole run, divided by every byte sent, warm-up second included; wrk/h2load: the measured run ' +
      'only, after a separate warm-up run). Per GB = 10^9 bytes. The load generator and the backend are not counted.',
    "- Peak RSS: VmHWM from `/proc/<pid>/status`, summed over the subject's processes (nginx master + workers, socat's forks, " +
      "both il-proxy processes of a tunnel), read at the end of the measurement. `direct` has no process of its own, hence no CPU or RSS.",
    '- TCP backend: `iperf3 -s` per measurement. HTTP backend: one nginx worker returning a fixed 13-byte body on an HTTP/1.1 ' +
      'port and an h2c port (a Node http server is slower per request and would set the pace of the proxies; it is measured ' +
      'as its own `direct (Node http server)` row).',
    '- Peers run with their defaults except: nginx http/http2 keep upstream connections alive (`keepalive 64`, otherwise it ' +
      'opens one backend connection per request and exhausts loopback ports) and `keepalive_requests 1000000`; nginx runs ' +
      '`worker_processes auto` (2 here) with the current user; HAProxy runs its default thread count (2 here); nghttpx its ' +
      'default single worker; socat forks per connection with its default 8 KiB buffer.',
    '- TLS (issue #14): every TLS subject speaks TLS 1.3 only with one ECDSA P-256 certificate made by openssl at the start of ' +
      'the run (examples/hbone/make-certs.sh); the loads offer TLS_AES_128_GCM_SHA256 only, the TLS sink accepts only it, and ' +
      'HAProxy and nginx are set to it, so every leg negotiates it (tls-push checks both legs of every round). Throughput: ' +
      'one TLS connection from bench/servers/tls-push.mjs into bench/servers/tls-sink.mjs, counted at the sink. Handshakes: ' +
      '`openssl s_time -new` clients, full handshakes without resumption, closing right after each; the HBONE pair is ' +
      'examples/hbone/{client,server}.yaml with their ports remapped.',
    '- Load generators, proxies and backends share the same 2 cores: figures are comparable within a run, not across machines.',
    '- A subject that cannot start is shown as `unavailable: <reason>`; it is never left out and never given a number.',
    '',
  );

  L.push('## Commands', '');
  L.push('Ports are picked per measurement; these are the command lines of the first measurement of each subject.', '');
  /** @type {Map<string, string[]>} */
  const seen = new Map();
  for (const br of results) {
    for (const s of br.subjects) {
      if (seen.has(s.subject.id) || s.commands.length === 0) continue;
      seen.set(s.subject.id, [...s.backendCommands.map((c) => `# backend\n${c}`), ...s.commands]);
    }
  }
  for (const [id, cmds] of seen) L.push(`- \`${id}\`:`, '', '  ```sh', ...cmds.flatMap((c) => c.split('\n')).map((c) => `  ${c}`), '  ```', '');

  L.push('## Generated configs', '');
  /** @type {Set<string>} */
  const shown = new Set();
  const backend = results.flatMap((br) => br.subjects).find((s) => s.backendFiles.length > 0)?.backendFiles[0];
  if (backend) L.push('<details><summary>HTTP backend: nginx.conf</summary>', '', '```', backend.text.trimEnd(), '```', '', '</details>', '');
  for (const br of results) {
    for (const s of br.subjects) {
      if (shown.has(s.subject.id) || s.files.length === 0) continue;
      shown.add(s.subject.id);
      for (const f of s.files) {
        if (!f.text) continue;
        L.push(`<details><summary><code>${s.subject.id}</code>: ${f.name}</summary>`, '', '```', f.text.trimEnd(), '```', '', '</details>', '');
      }
    }
  }
  return `${L.join('\n').trimEnd()}\n`;
}
