// Wisp console: talks to the REST API with the key the user typed, kept in
// sessionStorage. No framework, no build step.
"use strict";

const API = "/api/v1/namespaces/_";
const KEY = "wisp.key";
const HOUR = 3600 * 1000;
const MAX_ROWS = 200;
const STATUS = ["success", "application error", "developer error", "whisk internal error"];

const $ = (sel) => document.querySelector(sel);
const state = { acts: new Map(), stream: null, selected: "", metrics: null, refresh: 0 };

function authHeader(key) { return "Basic " + btoa(key); }

// api GETs path (relative to the caller's namespace unless absolute) and
// returns its JSON; a 401 logs out.
async function api(path, key) {
  key = key || sessionStorage.getItem(KEY);
  const url = path.startsWith("/") ? path : API + "/" + path;
  const resp = await fetch(url, { headers: { Authorization: authHeader(key), Accept: "application/json" } });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error(body.error || resp.statusText);
    err.status = resp.status;
    throw err;
  }
  return body;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

function annotation(a, key) {
  const kv = (a.annotations || []).find((p) => p.key === key);
  return kv ? kv.value : undefined;
}

function statusOf(a) { return STATUS[a.statusCode] || (a.response && a.response.status) || "unknown"; }
function startKind(a) { return annotation(a, "initTime") !== undefined ? "cold" : "warm"; }
function fmtTime(ms) { return new Date(ms).toLocaleTimeString(); }

// ---------------------------------------------------------------- login

async function login(key) {
  const namespaces = await api("/api/v1/namespaces", key);
  sessionStorage.setItem(KEY, key);
  $("#ns").textContent = namespaces[0] || "";
  $("#login").hidden = true;
  for (const id of ["#app", "#tabs", "#logout", "#live"]) $(id).hidden = false;
  startStream();
}

function logout(message) {
  sessionStorage.removeItem(KEY);
  if (state.stream) state.stream.abort();
  state.stream = null;
  state.acts.clear();
  state.metrics = null;
  $("#activations tbody").replaceChildren();
  for (const id of ["#app", "#tabs", "#logout", "#live"]) $(id).hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("#login-error").textContent = "";
  const key = $("#key").value.trim();
  try {
    await login(key);
    $("#key").value = "";
  } catch (err) {
    logout(err.status === 401 ? "Key refused: " + err.message : "Cannot log in: " + err.message);
  }
});
$("#logout").addEventListener("click", () => logout(""));

// ---------------------------------------------------------------- views

for (const b of document.querySelectorAll("#tabs button")) {
  b.addEventListener("click", () => show(b.dataset.view));
}

function show(view) {
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.view === view);
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== "view-" + view;
  const loaders = { actions: loadActions, triggers: loadTriggers, rules: loadRules, feeds: loadFeeds };
  if (loaders[view]) loaders[view]().catch(failed);
}

function failed(err) {
  if (err.status === 401) logout("Key refused: " + err.message);
  else console.error(err);
}

function fill(view, rows) {
  const body = $("#view-" + view + " tbody");
  body.replaceChildren(...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c)))));
  if (rows.length === 0) body.append(el("tr", {}, el("td", { colspan: "8", class: "note" }, "none")));
}

function qualified(e) { return e.namespace && e.namespace.includes("/") ? e.namespace.split("/").slice(1).join("/") + "/" + e.name : e.name; }

async function loadActions() {
  const [actions, packages] = await Promise.all([api("actions?limit=200"), api("packages?limit=200")]);
  const all = actions.slice();
  for (const p of packages.filter((p) => !p.binding || !p.binding.name)) {
    const pkg = await api("packages/" + encodeURIComponent(p.name)).catch(() => ({ actions: [] }));
    for (const a of pkg.actions || []) all.push({ ...a, namespace: p.namespace + "/" + p.name });
  }
  fill("actions", all.map((a) => [qualified(a), (a.exec && a.exec.kind) || annotation(a, "exec") || "", a.version, annotation(a, "web-export") ? "yes" : ""]));
}

async function loadTriggers() {
  const triggers = await api("triggers?limit=200");
  fill("triggers", triggers.map((t) => [t.name, annotation(t, "feed") || "", t.version]));
}

async function loadRules() {
  const rules = await api("rules?limit=200");
  const full = await Promise.all(rules.map((r) => api("rules/" + encodeURIComponent(r.name)).catch(() => r)));
  fill("rules", full.map((r) => [r.name, nameOf(r.trigger), nameOf(r.action), r.status || ""]));
}

// nameOf writes an entity reference, without the caller's own namespace.
function nameOf(ref) {
  if (!ref || typeof ref !== "object") return ref || "";
  const path = ref.path === $("#ns").textContent ? "" : ref.path;
  return (path ? "/" + path + "/" : "") + ref.name;
}

// Feed health: the triggers with a feed, from the namespace's metrics
// (GET .../metrics): last event, last lag, events received, fired and
// failed over the hour, and the trigger's fires.
async function loadFeeds() {
  const [triggers] = await Promise.all([api("triggers?limit=200"), loadMetrics()]);
  const seen = new Map(((state.metrics && state.metrics.triggers) || []).map((t) => [t.name, t]));
  const rows = triggers.filter((t) => annotation(t, "feed")).map((t) => {
    const m = seen.get(t.name) || { feedEvents: {} };
    const ev = m.feedEvents || {};
    return [t.name, annotation(t, "feed"), m.lastEvent ? fmtTime(m.lastEvent) : "never",
      m.lastEvent ? Math.round(m.lastLagMs) + " ms" : "", ev.received || 0, ev.fired || 0, ev.failed || 0, m.fires || 0];
  });
  fill("feeds", rows);
}

// ---------------------------------------------------------------- activity

async function loadActivations() {
  const since = Date.now() - HOUR;
  const acts = await api("activations?limit=200&since=" + since);
  for (const a of acts.reverse()) addActivation(a, false);
  await loadMetrics();
}

function addActivation(a, fresh) {
  const known = state.acts.has(a.activationId);
  state.acts.set(a.activationId, a);
  const body = $("#activations tbody");
  const row = el("tr", { "data-id": a.activationId, class: fresh ? "new" : "" },
    el("td", {}, fmtTime(a.start)),
    el("td", {}, a.name),
    el("td", { class: "status-" + statusOf(a) }, statusOf(a)),
    el("td", {}, a.duration + " ms"),
    el("td", { class: startKind(a) }, startKind(a)),
    el("td", {}, a.cause || ""));
  row.addEventListener("click", () => openActivation(a.activationId));
  const old = known && body.querySelector('tr[data-id="' + a.activationId + '"]');
  if (old) old.replaceWith(row); else body.prepend(row);
  while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
  const cutoff = Date.now() - HOUR;
  for (const [id, x] of state.acts) if (x.start < cutoff) state.acts.delete(id);
}

async function openActivation(id) {
  state.selected = id;
  for (const tr of document.querySelectorAll("#activations tbody tr")) tr.classList.toggle("selected", tr.dataset.id === id);
  const a = await api("activations/" + id).catch(failed);
  if (!a || state.selected !== id) return;
  $("#detail").hidden = false;
  $("#detail-title").textContent = a.name + " " + a.activationId;
  const meta = { status: statusOf(a), duration: a.duration + " ms", start: startKind(a), initTime: annotation(a, "initTime"),
    waitTime: annotation(a, "waitTime"), kind: annotation(a, "kind"), cause: a.cause, path: annotation(a, "path") };
  $("#detail-meta").replaceChildren(...Object.entries(meta).filter(([, v]) => v !== undefined && v !== "")
    .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("#detail-result").textContent = JSON.stringify(a.response && a.response.result, null, 2);
  $("#detail-logs").textContent = (a.logs || []).join("\n") || "(no logs)";
}

// startStream reads the activation stream (server-sent events) with fetch,
// which can send the Authorization header that EventSource cannot, lists
// the last hour once it is open, and reconnects after a second when it
// ends.
async function startStream() {
  const ctl = new AbortController();
  state.stream = ctl;
  const live = $("#live");
  try {
    const resp = await fetch(API + "/activations/stream", { headers: { Authorization: authHeader(sessionStorage.getItem(KEY)) }, signal: ctl.signal });
    if (resp.status === 401) { logout("Key refused"); return; }
    if (!resp.ok) throw new Error("stream: " + resp.status);
    live.classList.remove("off");
    // Listed after subscribing, so nothing falls between list and stream
    // (on the first open and after a reconnect).
    await loadActivations();
    document.body.dataset.stream = "open";
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const event = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = event.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (data) { addActivation(JSON.parse(data), true); refreshMetricsSoon(); }
      }
    }
  } catch (err) {
    if (ctl.signal.aborted) return;
    console.error(err);
  }
  if (state.stream !== ctl) return;
  live.classList.add("off");
  document.body.dataset.stream = "closed";
  setTimeout(() => { if (state.stream === ctl && sessionStorage.getItem(KEY)) startStream(); }, 1000);
}

// ---------------------------------------------------------------- charts

// loadMetrics reads the namespace's metrics of the last hour (per-minute
// buckets the server keeps, fed by the same calls as its Prometheus
// metrics) and draws the charts from them.
async function loadMetrics() {
  state.metrics = await api("metrics?since=" + (Date.now() - HOUR));
  drawCharts();
}

// refreshMetricsSoon reloads the metrics a second after new activity,
// once for a burst.
function refreshMetricsSoon() {
  if (state.refresh) return;
  state.refresh = setTimeout(() => { state.refresh = 0; loadMetrics().catch(failed); }, 1000);
}

function drawChart(id, values, color) {
  const c = document.getElementById(id), g = c.getContext("2d");
  c.dataset.values = JSON.stringify(values); // what is drawn, for tests and curious users
  const w = c.width, h = c.height, max = Math.max(1, ...values), bw = w / Math.max(values.length, 1);
  g.clearRect(0, 0, w, h);
  g.fillStyle = "#868e96";
  g.font = "10px sans-serif";
  g.fillText(String(Math.round(max)), 2, 10);
  g.fillText("-60 min", 2, h - 2);
  g.fillText("now", w - 22, h - 2);
  g.fillStyle = color;
  values.forEach((v, i) => { const bh = (v / max) * (h - 24); g.fillRect(i * bw + 1, h - 14 - bh, bw - 2, bh); });
}

function drawCharts() {
  const minutes = (state.metrics && state.metrics.minutes) || [];
  drawChart("chart-invocations", minutes.map((m) => m.invocations), "#3b5bdb");
  drawChart("chart-errors", minutes.map((m) => m.errors), "#c92a2a");
  drawChart("chart-latency", minutes.map((m) => m.duration.p90Ms), "#e67700");
}
setInterval(() => { if (!$("#app").hidden) loadMetrics().catch(failed); }, 15000);

// A key kept from earlier in this tab logs in again.
if (sessionStorage.getItem(KEY)) login(sessionStorage.getItem(KEY)).catch((err) => logout(err.status === 401 ? "Key refused" : ""));
