// o11y console UI. Every value that came from the wire is inserted as text
// (textContent / createTextNode / setAttribute on non-URL attributes); the
// page never builds HTML from data.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";

// el builds an element; string and number children become text nodes.
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, kids);
  return e;
}
function sv(tag, attrs, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  setAttrs(e, attrs);
  append(e, kids);
  return e;
}
function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "onclick") e.addEventListener("click", v);
    else if (k === "text") e.textContent = String(v);
    else if (k === "style") e.style.cssText = String(v); // CSSOM: allowed by the page's style-src policy
    else e.setAttribute(k, String(v));
  }
}
function append(e, kids) {
  for (const k of kids.flat()) {
    if (k === undefined || k === null || k === false) continue;
    e.appendChild(typeof k === "object" ? k : document.createTextNode(String(k)));
  }
}
function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

function fmtDur(s) {
  if (s === undefined || s === null || isNaN(s)) return "";
  if (s < 0.001) return (s * 1e6).toFixed(0) + " µs";
  if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 2 : 1) + " ms";
  return s.toFixed(2) + " s";
}
function fmtTime(epochSec) {
  if (!epochSec) return "";
  const d = new Date(epochSec * 1000);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}
function pct(n, d) { return d ? (100 * n / d) : 0; }
function fmtPct(n, d) { return pct(n, d).toFixed(1) + " %"; }

function windowSec() { return document.getElementById("window").value; }

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    const err = new Error((body && body.error) || ("HTTP " + r.status));
    err.pos = body && body.pos;
    throw err;
  }
  return body;
}

// ---- routing

let refreshTimer = null;
let current = "";

function route() {
  const h = location.hash || "#/map";
  const [path, query] = h.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  for (const n of ["map", "traces", "metrics"]) {
    document.getElementById("nav-" + n).classList.toggle("active", path.startsWith("/" + n) || (n === "traces" && path.startsWith("/trace/")));
  }
  clearInterval(refreshTimer);
  const view = document.getElementById("view");
  current = h;
  if (path.startsWith("/trace/")) {
    showTrace(view, decodeURIComponent(path.slice("/trace/".length)));
  } else if (path === "/traces") {
    showTraces(view, params.get("filter") || "");
  } else if (path === "/metrics") {
    showMetrics(view);
    refreshTimer = setInterval(() => { if (!document.hidden) showMetrics(view, true); }, 5000);
  } else {
    showMap(view);
    refreshTimer = setInterval(() => { if (!document.hidden) showMap(view, true); }, 5000);
  }
}

async function refreshStats() {
  try {
    const s = await getJSON("/api/stats");
    const bad = s.bad_segments + s.bad_otlp + s.bad_emf + s.bad_lines;
    document.getElementById("stats").textContent =
      `${s.traces} traces · ${s.segments} segments · ${s.emf_documents} EMF · ${s.log_lines} log lines` +
      (bad ? ` · ${bad} malformed dropped` : "") + (s.overload_dropped ? ` · ${s.overload_dropped} overload dropped` : "");
  } catch (e) { /* the next tick retries */ }
}

// ---- service map

const HEALTH = { ok: "#1d8102", error: "#ff9900", throttle: "#8c4fff", fault: "#d13212" };
let selectedNode = null;

async function showMap(view, refresh) {
  let m;
  try { m = await getJSON("/api/map?window=" + windowSec()); } catch (e) {
    clear(view); view.appendChild(el("div", { class: "error-box", text: e.message })); return;
  }
  if (refresh && current !== (location.hash || "#/map")) return;
  clear(view);
  const panel = el("div", { class: "panel" },
    el("h2", {}, "Service map"),
    el("div", { class: "legend muted" },
      el("span", {}, el("span", { class: "swatch", style: "background:" + HEALTH.ok }), "OK"),
      el("span", {}, el("span", { class: "swatch", style: "background:" + HEALTH.error }), "Error (4xx)"),
      el("span", {}, el("span", { class: "swatch", style: "background:" + HEALTH.throttle }), "Throttle (429)"),
      el("span", {}, el("span", { class: "swatch", style: "background:" + HEALTH.fault }), "Fault (5xx)"),
      el("span", {}, `${m.traces} traces in the window`)));
  view.appendChild(panel);
  if (!m.nodes || m.nodes.length === 0) {
    view.appendChild(el("div", { class: "panel empty", text: "No traces in this window yet. Send some traffic (or pick a longer window)." }));
    return;
  }
  const wrap = el("div", { class: "map-wrap" });
  view.appendChild(wrap);
  const side = el("div", { class: "panel side", id: "node-detail" });
  wrap.appendChild(drawMap(m, side));
  wrap.appendChild(side);
  const busiest = m.nodes.filter(n => n.kind === "service").sort((a, b) => b.requests - a.requests)[0];
  const sel = m.nodes.find(n => n.id === selectedNode) || busiest || m.nodes[0];
  nodeDetail(side, sel);
}

function layout(m) {
  // Depth: longest path from a client (bounded, so cycles terminate).
  const depth = {};
  for (const n of m.nodes) depth[n.id] = n.kind === "client" ? 0 : 1;
  for (let i = 0; i < m.nodes.length; i++) {
    let changed = false;
    for (const e of m.edges) {
      const d = depth[e.from] + 1;
      if (depth[e.to] < d && d <= m.nodes.length) { depth[e.to] = d; changed = true; }
    }
    if (!changed) break;
  }
  const cols = {};
  for (const n of m.nodes) (cols[depth[n.id]] = cols[depth[n.id]] || []).push(n);
  const pos = {};
  let maxRows = 1, maxCol = 0;
  for (const [d, ns] of Object.entries(cols)) {
    ns.sort((a, b) => a.name < b.name ? -1 : 1);
    ns.forEach((n, i) => { pos[n.id] = { x: 90 + d * 230, y: 80 + i * 150 }; });
    maxRows = Math.max(maxRows, ns.length);
    maxCol = Math.max(maxCol, +d);
  }
  return { pos, width: 180 + maxCol * 230 + 60, height: 60 + maxRows * 150 };
}

function drawMap(m, side) {
  const { pos, width, height } = layout(m);
  const byId = Object.fromEntries(m.nodes.map(n => [n.id, n]));
  const s = sv("svg", { viewBox: `0 0 ${width} ${height}`, width: width, height: height, id: "map" });
  s.appendChild(sv("defs", {}, sv("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    sv("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#879596" }))));
  const R = 34;
  for (const e of m.edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
    const x1 = a.x + dx / len * R, y1 = a.y + dy / len * R, x2 = b.x - dx / len * (R + 2), y2 = b.y - dy / len * (R + 2);
    const cls = "edge" + (e.faults ? " fault" : e.errors ? " error" : "");
    s.appendChild(sv("path", { class: cls, d: `M ${x1} ${y1} L ${x2} ${y2}`, "marker-end": "url(#arrow)",
      "data-from": byId[e.from].name, "data-to": byId[e.to].name }));
    const label = `${e.requests} req · p50 ${fmtDur(e.p50)}`;
    s.appendChild(sv("text", { class: "edge-label", x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 5, "text-anchor": "middle" }, label));
  }
  for (const n of m.nodes) {
    const p = pos[n.id];
    const g = sv("g", { class: "node" + (n.id === selectedNode ? " selected" : ""), transform: `translate(${p.x},${p.y})`,
      "data-name": n.name, "data-kind": n.kind, "data-health": n.health });
    g.addEventListener("click", () => { selectedNode = n.id; nodeDetail(side, n);
      for (const o of document.querySelectorAll("g.node")) o.classList.toggle("selected", o === g); });
    g.appendChild(sv("circle", { class: "bg", r: R, stroke: "#eaeded", "stroke-width": 6 }));
    // Health ring: arcs proportional to ok / error / throttle / fault.
    const C = 2 * Math.PI * R;
    const req = n.requests || 0;
    const parts = n.kind === "client" ? [["ok", 1]] : [
      ["fault", n.faults], ["throttle", n.throttles], ["error", Math.max(0, n.errors - n.throttles)],
      ["ok", Math.max(0, req - n.faults - n.errors)]];
    const total = parts.reduce((t, p) => t + p[1], 0) || 1;
    let off = 0;
    for (const [k, v] of parts) {
      if (!v) continue;
      const l = C * v / total;
      g.appendChild(sv("circle", { r: R, fill: "none", stroke: n.kind === "client" ? "#aab7b8" : HEALTH[k], "stroke-width": 6,
        "stroke-dasharray": `${l} ${C - l}`, "stroke-dashoffset": -off, transform: "rotate(-90)" }));
      off += l;
    }
    g.appendChild(sv("text", { class: "center", "text-anchor": "middle", y: -2 }, n.kind === "client" ? "" : fmtDur(n.p50)));
    g.appendChild(sv("text", { class: "center", "text-anchor": "middle", y: 12 }, n.kind === "client" ? "" : `${req} req`));
    g.appendChild(sv("text", { class: "name", "text-anchor": "middle", y: R + 16 }, n.name));
    g.appendChild(sv("text", { "text-anchor": "middle", y: R + 30 }, n.type));
    if (n.kind !== "client") {
      g.appendChild(sv("text", { "text-anchor": "middle", y: R + 44 },
        `p99 ${fmtDur(n.p99)} · err ${pct(n.errors, req).toFixed(0)}% · flt ${pct(n.faults, req).toFixed(0)}%`));
    }
    s.appendChild(g);
  }
  return s;
}

function nodeDetail(side, n) {
  clear(side);
  if (!n) return;
  selectedNode = n.id;
  side.appendChild(el("h2", {}, n.name));
  const kv = el("div", { class: "kv" });
  const row = (k, v) => { kv.appendChild(el("div", { class: "k" }, k)); kv.appendChild(el("div", { class: "v" }, v)); };
  row("type", n.type);
  if (n.kind !== "client") {
    row("requests", n.requests);
    row("latency p50", fmtDur(n.p50));
    row("latency p99", fmtDur(n.p99));
    row("errors (4xx)", `${n.errors} (${fmtPct(n.errors, n.requests)})`);
    row("throttles (429)", `${n.throttles} (${fmtPct(n.throttles, n.requests)})`);
    row("faults (5xx)", `${n.faults} (${fmtPct(n.faults, n.requests)})`);
  } else {
    row("requests", n.requests);
  }
  side.appendChild(kv);
  if (n.kind !== "client") {
    const f = `service(${JSON.stringify(n.name)})`;
    side.appendChild(el("p", {}, el("a", { href: "#/traces?filter=" + encodeURIComponent(f) }, "View traces")));
    side.appendChild(el("p", {}, el("a", { href: "#/traces?filter=" + encodeURIComponent(f + " AND fault") }, "View faulted traces")));
  }
}

// ---- traces

async function showTraces(view, filter) {
  clear(view);
  const input = el("input", { id: "filter", type: "text", spellcheck: "false", placeholder: 'service("orders") AND annotation.order_id = "42"' });
  input.value = filter;
  const apply = () => { location.hash = "#/traces?filter=" + encodeURIComponent(input.value); if (location.hash === current) showTraces(view, input.value); };
  input.addEventListener("keydown", ev => { if (ev.key === "Enter") apply(); });
  const panel = el("div", { class: "panel" },
    el("h2", {}, "Traces"),
    el("div", { class: "filter-row" }, input, el("button", { class: "primary", id: "apply", onclick: apply }, "Run query")),
    el("div", { class: "hint" },
      'Filter expressions: service("name"), annotation.KEY = "v", http.status = 500, http.url CONTAINS "x", http.method, responsetime > 0.5, duration, user, fault, error, throttle, ok; AND, OR, NOT, ( ).'));
  view.appendChild(panel);
  const out = el("div", { class: "panel", id: "trace-results" }, el("div", { class: "muted" }, "Loading…"));
  view.appendChild(out);
  let res;
  try {
    res = await getJSON("/api/traces?limit=200&window=" + windowSec() + "&filter=" + encodeURIComponent(filter));
  } catch (e) {
    clear(out);
    out.appendChild(el("div", { class: "error-box", id: "filter-error" }, e.message + (e.pos ? "\n" + filter + "\n" + " ".repeat(e.pos - 1) + "^" : "")));
    return;
  }
  clear(out);
  out.appendChild(el("div", { class: "muted" }, `${res.matched} of ${res.stored} kept traces match` + (res.matched > res.traces.length ? ` (newest ${res.traces.length} shown)` : "")));
  if (res.traces.length === 0) { out.appendChild(el("div", { class: "empty", text: "No trace matches." })); return; }
  const tb = el("tbody");
  for (const t of res.traces) {
    const flags = el("td", {});
    if (t.fault) flags.appendChild(el("span", { class: "flag fault" }, "fault"));
    if (t.error) flags.appendChild(el("span", { class: "flag error" }, "error"));
    if (t.throttle) flags.appendChild(el("span", { class: "flag throttle" }, "throttle"));
    tb.appendChild(el("tr", { "data-trace": t.id },
      el("td", { class: "mono" }, fmtTime(t.start)),
      el("td", { class: "mono" }, el("a", { href: "#/trace/" + encodeURIComponent(t.id) }, t.id)),
      el("td", {}, t.name),
      el("td", { class: "mono" }, [t.method, t.url].filter(Boolean).join(" ")),
      el("td", {}, t.status || ""),
      el("td", {}, fmtDur(t.response_time)),
      el("td", {}, fmtDur(t.duration)),
      flags,
      el("td", {}, (t.services || []).join(", ")),
      el("td", {}, t.logs)));
  }
  out.appendChild(el("table", { id: "traces" },
    el("thead", {}, el("tr", {}, ["Time", "Trace ID", "Entry", "Request", "Status", "Response", "Duration", "Flags", "Services", "Logs"].map(h => el("th", {}, h)))),
    tb));
}

// ---- trace view

function flattenTrace(docs) {
  // Nodes from every document (embedded subsegments included), linked by
  // parent id; a node whose parent is unknown is a root.
  const nodes = [];
  const walk = (d, parent, service, isSeg) => {
    if (!d || typeof d !== "object") return;
    const n = { doc: d, parent: parent !== undefined ? parent : d.parent_id, isSeg, service: isSeg ? d.name : service, kids: [] };
    nodes.push(n);
    for (const c of (Array.isArray(d.subsegments) ? d.subsegments : [])) walk(c, d.id, n.service, false);
  };
  for (const d of docs) walk(d, undefined, undefined, d.type !== "subsegment");
  const byId = {};
  for (const n of nodes) if (n.doc.id && !byId[n.doc.id]) byId[n.doc.id] = n;
  const roots = [];
  for (const n of nodes) {
    const p = n.parent && byId[n.parent];
    if (p && p !== n) { p.kids.push(n); if (!n.isSeg && !n.service) n.service = p.service; } else roots.push(n);
  }
  // Subsegments sent on their own inherit their service from the parent chain.
  const fill = (n, svc) => { if (!n.service) n.service = svc; for (const k of n.kids) fill(k, n.isSeg ? n.doc.name : n.service); };
  const byStart = (a, b) => (a.doc.start_time || 0) - (b.doc.start_time || 0);
  roots.sort(byStart);
  const out = [];
  const seen = new Set();
  const visit = (n, depth) => {
    if (seen.has(n) || depth > 64) return;
    seen.add(n);
    out.push({ n, depth });
    n.kids.sort(byStart);
    for (const k of n.kids) visit(k, depth + 1);
  };
  for (const r of roots) { fill(r, r.doc.name); visit(r, 0); }
  return out;
}

async function showTrace(view, id) {
  clear(view);
  let t;
  try { t = await getJSON("/api/trace?id=" + encodeURIComponent(id)); } catch (e) {
    view.appendChild(el("div", { class: "error-box", text: e.message })); return;
  }
  const rows = flattenTrace(t.segments || []);
  let start = Infinity, end = -Infinity;
  for (const { n } of rows) {
    const s = +n.doc.start_time || 0, e = +(n.doc.end_time || n.doc.start_time) || 0;
    if (s) start = Math.min(start, s);
    end = Math.max(end, e);
  }
  const span = Math.max(end - start, 1e-6);
  const head = el("div", { class: "panel" },
    el("h2", {}, "Trace ", el("span", { class: "mono", id: "trace-id" }, t.id)),
    el("div", { class: "muted" }, `${rows.length} segments and subsegments · ${fmtDur(end - start)} · started ${fmtTime(start)} · `,
      el("a", { href: "#/traces" }, "back to traces")));
  view.appendChild(head);
  const wf = el("div", { class: "panel", id: "waterfall" }, el("h3", {}, "Timeline"));
  const detail = el("div", { class: "panel", id: "segment-detail" });
  const logs = el("div", { class: "panel", id: "logs" }, el("h3", {}, `Logs (${(t.logs || []).length})`));
  for (const { n, depth } of rows) {
    const d = n.doc;
    const s = +d.start_time || start, e = +(d.end_time || d.start_time) || s;
    const cls = "wf-bar" + (n.isSeg ? "" : " sub") + (d.fault ? " fault" : d.throttle ? " throttle" : d.error ? " error" : "");
    const bar = el("div", { class: cls, style: `left:${(100 * (s - start) / span).toFixed(3)}%;width:${Math.max(0.2, 100 * (e - s) / span).toFixed(3)}%` });
    const nameCell = el("div", { class: "wf-name", style: `padding-left:${depth * 14}px` },
      n.isSeg ? el("span", { class: "svc" }, d.name) : d.name,
      d.namespace ? el("span", { class: "muted" }, " (" + d.namespace + ")") : null,
      d.in_progress ? el("span", { class: "muted" }, " in progress") : null);
    const row = el("div", { class: "wf-row" + (n.isSeg ? " seg" : " subseg"), "data-name": d.name }, nameCell,
      el("div", { class: "wf-track" }, bar), el("div", { class: "wf-dur" }, fmtDur(e - s)));
    row.addEventListener("click", () => {
      for (const r of wf.querySelectorAll(".wf-row")) r.classList.toggle("selected", r === row);
      segmentDetail(detail, n);
    });
    wf.appendChild(row);
  }
  const lines = t.logs || [];
  if (lines.length === 0) logs.appendChild(el("div", { class: "muted" }, "No log line with this trace's xray_trace_id was received (the console reads the service's stdout, or stdin)."));
  for (const l of lines) {
    const lvl = String(l.level || l.lvl || "");
    const msg = typeof l.msg === "string" ? l.msg : (typeof l.message === "string" ? l.message : JSON.stringify(l.msg || l.message || ""));
    const full = el("pre", { hidden: true }, JSON.stringify(l, null, 2));
    const line = el("div", { class: "log" },
      el("span", { class: "time" }, typeof l.time === "string" ? l.time.replace(/^.*T/, "").replace(/Z$/, "") : String(l.time || "")),
      el("span", { class: "lvl " + lvl.replace(/[^A-Z]/g, "") }, lvl),
      el("span", {}, msg),
      l.service ? el("span", { class: "muted" }, "  · " + l.service) : null,
      full);
    line.addEventListener("click", () => { full.hidden = !full.hidden; });
    logs.appendChild(line);
  }
  const left = el("div", {}, wf, detail);
  view.appendChild(el("div", { class: "trace-wrap" }, left, logs));
  if (rows.length) { wf.querySelector(".wf-row").classList.add("selected"); segmentDetail(detail, rows[0].n); }
}

function segmentDetail(box, n) {
  clear(box);
  const d = n.doc;
  box.appendChild(el("h3", {}, (n.isSeg ? "Segment " : "Subsegment ") , el("span", { class: "mono" }, d.name)));
  const kv = el("div", { class: "kv" });
  const row = (k, v) => {
    if (v === undefined || v === null || v === "") return;
    kv.appendChild(el("div", { class: "k" }, k));
    kv.appendChild(el("div", { class: "v" }, typeof v === "object" ? JSON.stringify(v, null, 2) : String(v)));
  };
  row("id", d.id); row("parent_id", d.parent_id); row("trace_id", d.trace_id);
  row("service", n.service); row("namespace", d.namespace); row("origin", d.origin); row("user", d.user);
  row("start", fmtTime(+d.start_time)); row("duration", fmtDur((+d.end_time || +d.start_time) - +d.start_time));
  const flags = ["fault", "error", "throttle"].filter(f => d[f] === true).join(", ");
  row("flags", flags);
  box.appendChild(kv);
  const block = (title, v, id) => {
    if (v === undefined || v === null) return;
    box.appendChild(el("h3", {}, title));
    box.appendChild(el("pre", { class: "block-" + id }, JSON.stringify(v, null, 2)));
  };
  block("Annotations", d.annotations, "annotations");
  block("HTTP", d.http, "http");
  block("AWS", d.aws, "aws");
  block("SQL", d.sql, "sql");
  block("Metadata", d.metadata, "metadata");
  if (d.cause !== undefined) {
    box.appendChild(el("h3", {}, "Exceptions"));
    if (typeof d.cause === "string") {
      box.appendChild(el("div", { class: "mono" }, "see exception " + d.cause));
    } else {
      if (d.cause.working_directory) box.appendChild(el("div", { class: "muted" }, "working directory: " + d.cause.working_directory));
      for (const x of (Array.isArray(d.cause.exceptions) ? d.cause.exceptions : [])) {
        const ex = el("div", { class: "exc" },
          el("div", {}, el("b", {}, String(x.type || "exception")), ": ", String(x.message || "")),
          el("div", { class: "muted mono" }, "id " + String(x.id || "") + (x.remote ? " · remote" : "") + (x.cause ? " · caused by " + x.cause : "") + (x.truncated ? ` · ${x.truncated} frames truncated` : "")));
        const st = Array.isArray(x.stack) ? x.stack : [];
        if (st.length) ex.appendChild(el("pre", { class: "stack" }, st.map(f => `${f.label || "?"}\n    ${f.path || "?"}:${f.line || 0}`).join("\n")));
        box.appendChild(ex);
      }
    }
  }
  box.appendChild(el("h3", {}, "Raw document"));
  box.appendChild(el("pre", {}, JSON.stringify(d, null, 2)));
}

// ---- metrics

async function showMetrics(view, refresh) {
  let res;
  try { res = await getJSON("/api/metrics?window=" + (windowSec() === "0" ? "3600" : windowSec())); } catch (e) {
    clear(view); view.appendChild(el("div", { class: "error-box", text: e.message })); return;
  }
  if (refresh && current !== location.hash) return;
  clear(view);
  const series = res.series || [];
  const req = {}, other = [];
  for (const s of series) {
    if (["Latency", "Error", "Fault"].includes(s.name) && s.dims && s.dims.Service !== undefined) {
      const key = s.namespace + "\u0000" + Object.keys(s.dims).sort().map(k => k + "=" + s.dims[k]).join("\u0000");
      (req[key] = req[key] || { ns: s.namespace, dims: s.dims, m: {} }).m[s.name] = s;
    } else other.push(s);
  }
  const top = el("div", { class: "panel" }, el("h2", {}, "Request metrics"),
    el("div", { class: "muted" }, "EMF documents from the SDK's request recorder (Latency, Error, Fault per Service and Operation), in 10-second buckets."));
  view.appendChild(top);
  const keys = Object.keys(req).sort((a, b) => {
    const da = Object.keys(req[a].dims).length, db = Object.keys(req[b].dims).length;
    return da !== db ? db - da : (a < b ? -1 : 1);
  });
  if (keys.length === 0) top.appendChild(el("div", { class: "empty" }, "No request metrics yet. They arrive when the SDK flushes (every 60 s by default; AWS_EMF_FLUSH_INTERVAL or Metrics.FlushInterval)."));
  for (const k of keys) {
    const g = req[k];
    const title = Object.keys(g.dims).sort((a, b) => a === "Service" ? -1 : b === "Service" ? 1 : a < b ? -1 : 1).map(d => g.dims[d]).join(" · ") +
      (Object.keys(g.dims).length === 1 ? " (all operations)" : "");
    const box = el("div", { class: "panel metric-group", "data-title": title }, el("h3", {}, title), el("div", { class: "muted" }, "namespace " + g.ns));
    const charts = el("div", { class: "charts" });
    if (g.m.Latency) charts.appendChild(chart("Latency (" + (g.m.Latency.unit || "") + ")", g.m.Latency.points, [["p50", p => p.p50], ["p99", p => p.p99]]));
    if (g.m.Error) charts.appendChild(chart("Errors (4xx)", g.m.Error.points, [["errors", p => p.sum], ["requests", p => p.count]]));
    if (g.m.Fault) charts.appendChild(chart("Faults (5xx)", g.m.Fault.points, [["faults", p => p.sum], ["requests", p => p.count]]));
    box.appendChild(charts);
    const ex = el("div", { class: "exemplars" });
    const seen = new Set();
    for (const [name, label] of [["Latency", "slowest"], ["Fault", "fault"]]) {
      const s = g.m[name];
      if (!s) continue;
      for (const e of (s.exemplars || []).slice(-5).reverse()) {
        if (seen.has(label + e.trace)) continue;
        seen.add(label + e.trace);
        ex.appendChild(el("a", { href: "#/trace/" + encodeURIComponent(e.trace), class: "exemplar " + label, title: label + " request at " + new Date(e.t).toLocaleTimeString() }, label + " " + e.trace));
      }
    }
    if (ex.childNodes.length) { box.appendChild(el("div", { class: "muted" }, "Exemplar traces:")); box.appendChild(ex); }
    view.appendChild(box);
  }
  const cust = el("div", { class: "panel" }, el("h2", {}, "Other EMF metrics"));
  const charts = el("div", { class: "charts" });
  for (const s of other) {
    const dims = Object.keys(s.dims || {}).sort().map(k => k + "=" + s.dims[k]).join(", ");
    const isCount = s.unit === "Count" || s.unit === "None" || !s.unit;
    charts.appendChild(chart(`${s.namespace} / ${s.name}${s.unit ? " (" + s.unit + ")" : ""}${dims ? " · " + dims : ""}`, s.points,
      isCount ? [["sum", p => p.sum]] : [["avg", p => p.count ? p.sum / p.count : 0], ["max", p => p.max]]));
  }
  if (other.length === 0) cust.appendChild(el("div", { class: "muted" }, "None received."));
  cust.appendChild(charts);
  view.appendChild(cust);
}

// chart draws one small time chart: lines for each [label, fn] over points.
function chart(title, points, lines) {
  const W = 340, H = 140, L = 44, B = 20, T = 8, Rm = 8;
  const box = el("div", { class: "chart-box" }, el("div", { class: "title" }, title));
  const s = sv("svg", { class: "chart", width: W, height: H, viewBox: `0 0 ${W} ${H}`, "data-points": points.length });
  const xs = points.map(p => p.t);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
  let ymax = 0;
  for (const [, f] of lines) for (const p of points) ymax = Math.max(ymax, +f(p) || 0);
  if (ymax <= 0) ymax = 1;
  const X = t => L + (W - L - Rm) * (points.length === 1 ? 0.5 : (t - x0) / (x1 - x0));
  const Y = v => T + (H - T - B) * (1 - v / ymax);
  s.appendChild(sv("line", { class: "axis", x1: L, y1: H - B, x2: W - Rm, y2: H - B }));
  s.appendChild(sv("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
  s.appendChild(sv("text", { x: L - 4, y: T + 8, "text-anchor": "end" }, fmtNum(ymax)));
  s.appendChild(sv("text", { x: L - 4, y: H - B, "text-anchor": "end" }, "0"));
  if (points.length) {
    s.appendChild(sv("text", { x: L, y: H - 5 }, new Date(x0).toLocaleTimeString([], { hour12: false })));
    s.appendChild(sv("text", { x: W - Rm, y: H - 5, "text-anchor": "end" }, new Date(x1).toLocaleTimeString([], { hour12: false })));
  }
  lines.forEach(([label, f], i) => {
    const pts = points.map(p => `${X(p.t).toFixed(1)},${Y(+f(p) || 0).toFixed(1)}`).join(" ");
    s.appendChild(sv("polyline", { class: "line" + i, points: pts, "data-series": label }));
    for (const p of points.length <= 60 ? points : []) s.appendChild(sv("circle", { cx: X(p.t), cy: Y(+f(p) || 0), r: 1.8, fill: i ? "#d13212" : "#0073bb" }));
    s.appendChild(sv("text", { x: L + 6 + i * 70, y: T + 8, fill: i ? "#d13212" : "#0073bb" }, label));
  });
  box.appendChild(s);
  return box;
}

function fmtNum(v) {
  if (v >= 1000) return (v / 1000).toFixed(1) + "k";
  if (v >= 10) return v.toFixed(0);
  return v.toPrecision(2);
}

// ---- start

window.addEventListener("hashchange", route);
document.getElementById("window").addEventListener("change", route);
route();
refreshStats();
setInterval(() => { if (!document.hidden) refreshStats(); }, 3000);
