// podproxy's web page: plain JS, no build step. Every action is a call to
// podproxy's API (the same calls podman's clients make), with the tab's
// token in Authorization. URLs are relative to /ui/ so a path prefix in
// front of podproxy (a proxy) keeps working.
"use strict";

const API = "../v4.3.1/libpod";
const ACCESS = "../access";
const TOKEN_KEY = "podproxy.token";

const state = {
  access: null,      // GET /access: {token, policy, allowed: ["METHOD /route"]}
  images: [],
  sort: { key: "created", dir: -1 },
  filter: "",
};

const $ = (sel, root) => (root || document).querySelector(sel);
const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// ---- the API ---------------------------------------------------------------

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (token()) h["Authorization"] = "Bearer " + token();
  return h;
}

// podman's error body is {"cause","message","response"}; a few failures
// write two of them, one a line: the first says what happened.
function errorText(status, body) {
  const first = (body || "").split("\n").find((l) => l.trim()) || "";
  try {
    const e = JSON.parse(first);
    if (e && typeof e.message === "string") return e.message;
  } catch (_) { /* not JSON: the router's plain text */ }
  return first.trim() || "HTTP " + status;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function call(method, path, opts) {
  opts = opts || {};
  const url = path.startsWith("..") ? path : API + path;
  const resp = await fetch(url, { method, headers: headers(opts.headers), body: opts.body, cache: "no-store",
                                  credentials: "omit" });
  if (!resp.ok) {
    const text = await resp.text();
    if (resp.status === 401 && !opts.signin) showSignin("Your token was refused: " + errorText(resp.status, text));
    throw new ApiError(resp.status, errorText(resp.status, text));
  }
  return resp;
}

async function json(method, path, opts) {
  const resp = await call(method, path, opts);
  const text = await resp.text();
  return text ? JSON.parse(text) : null;
}

function q(params) {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") s.append(k, v);
  const text = s.toString();
  return text ? "?" + text : "";
}

const enc = encodeURIComponent;

function can(route) { return !!state.access && state.access.allowed.includes(route); }

// hide what this token may not do (the server refuses it anyway)
function applyAccess(root) {
  for (const node of $$("[data-needs]", root)) node.hidden = !can(node.dataset.needs);
  for (const node of $$("[data-needs-any]", root)) node.hidden = !node.dataset.needsAny.split("|").some(can);
}

// ---- words and numbers --------------------------------------------------------

function size(bytes) {
  if (bytes === undefined || bytes === null) return "";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let n = bytes, i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i === 0 ? n : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + " " + units[i];
}

function parseSize(text) {  // podman's "1.987MB"
  const m = /^([\d.]+)\s*([kMGT]?B)$/.exec(text.trim());
  if (!m) return 0;
  return parseFloat(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[m[2]];
}

function ago(date) {
  const s = Math.round((Date.now() - date.getTime()) / 1000);
  if (s < 45) return "just now";
  const steps = [[60, "minute"], [3600, "hour"], [86400, "day"], [2592000, "month"], [31536000, "year"]];
  let unit = "second", n = s;
  for (const [secs, name] of steps) if (s >= secs * 0.75) { unit = name; n = Math.round(s / secs); }
  return n + " " + unit + (n === 1 ? "" : "s") + " ago";
}

function exact(date) { return date.toLocaleString() + " (" + date.toISOString() + ")"; }

function shortId(id) { return (id || "").replace(/^sha256:/, "").slice(0, 12); }

function names(img) { return (img.Names && img.Names.length ? img.Names : img.RepoTags) || []; }

function label(img) { return names(img)[0] || shortId(img.Id); }

// ---- banner and sign-in ---------------------------------------------------------

function banner(text, kind) {
  const b = $("#banner");
  b.textContent = text || "";
  b.className = "banner " + (kind || "error");
  b.hidden = !text;
}

function showSignin(message) {
  for (const v of ["#list-view", "#image-view"]) $(v).hidden = true;
  $("#signin").hidden = false;
  $("#who").hidden = true;
  $("#signout").hidden = true;
  const e = $("#signin-error");
  e.textContent = message || "";
  e.hidden = !message;
  $("#token").focus();
}

async function loadAccess(signin) {
  const resp = await call("GET", ACCESS, { signin });
  state.access = await resp.json();
  const who = $("#who");
  if (state.access.token) {
    who.textContent = state.access.token + " \u00b7 " + state.access.policy;
    who.hidden = false;
    $("#signout").hidden = false;
  } else {
    who.textContent = "policy: " + state.access.policy;
    who.hidden = false;
  }
  $("#signin").hidden = true;
  applyAccess(document);
}

async function signin(ev) {
  ev.preventDefault();
  const value = $("#token").value.trim();
  sessionStorage.setItem(TOKEN_KEY, value);
  try {
    await loadAccess(true);
    $("#token").value = "";
    route();
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignin("Sign-in failed: " + e.message);
  }
}

// ---- the list --------------------------------------------------------------------

// The filter box maps to podman's list filters: label=..., dangling=...,
// before/since/... as typed; any other word is reference=WORD.
function filtersFrom(text) {
  const f = {};
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const m = /^(label|dangling|before|since|until|id|digest|readonly|containers|intermediate|reference)=(.*)$/.exec(word);
    const [key, value] = m ? [m[1], m[2]] : ["reference", word];
    (f[key] = f[key] || []).push(value);
  }
  return Object.keys(f).length ? JSON.stringify(f) : "";
}

const SORTS = {
  name: (i) => label(i).toLowerCase(),
  id: (i) => i.Id,
  size: (i) => i.Size,
  created: (i) => i.Created,
  containers: (i) => i.Containers,
};

async function showList() {
  $("#image-view").hidden = true;
  $("#list-view").hidden = false;
  $("#where").textContent = "Images";
  document.title = "podproxy: images";
  await refreshList();
}

async function refreshList() {
  try {
    state.images = (await json("GET", "/images/json" + q({ filters: filtersFrom(state.filter) }))) || [];
  } catch (e) {
    state.images = [];
    banner("Could not list images: " + e.message);
  }
  renderList();
  drawDisk(state.images).catch(() => {});
}

function renderList() {
  const key = state.sort.key, dir = state.sort.dir;
  const rows = state.images.slice().sort((a, b) => {
    const x = SORTS[key](a), y = SORTS[key](b);
    return (x < y ? -1 : x > y ? 1 : 0) * dir;
  });
  for (const th of $$("#images th")) {
    th.setAttribute("aria-sort", th.dataset.key !== key ? "none" : dir > 0 ? "ascending" : "descending");
  }
  const body = $("#images tbody");
  body.replaceChildren(...rows.map(row));
  $("#list-empty").hidden = rows.length > 0;
  $("#list-empty").textContent = state.filter ? "No image matches this filter." : "No images.";
}

function row(img) {
  const created = new Date(img.Created * 1000);
  const href = "#/image/" + img.Id;
  const nameCell = names(img).length
    ? names(img).map((n) => el("a", { href, class: "name", text: n }))
    : [el("a", { href, class: "name none", text: "<none>" })];
  return el("tr", { "data-id": img.Id, class: img.Dangling ? "dangling" : "" },
    el("td", { "data-label": "Name" }, nameCell, img.Dangling ? el("span", { class: "badge", text: "dangling" }) : null),
    el("td", { "data-label": "ID" }, el("code", { text: shortId(img.Id) })),
    el("td", { "data-label": "Size", class: "num", "data-bytes": img.Size }, size(img.Size)),
    el("td", { "data-label": "Created" }, el("time", { datetime: created.toISOString(), title: exact(created), text: ago(created) })),
    el("td", { "data-label": "Containers", class: "num" }, String(img.Containers || 0)));
}

function sortBy(ev) {
  const th = ev.target.closest("th");
  if (!th) return;
  const key = th.dataset.key;
  state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : key === "name" || key === "id" ? 1 : -1 };
  renderList();
}

// ---- disk use: unique vs shared layer bytes ------------------------------------------

// podman's tree text: "├── ID: 0e96a5b83e9b Size: 1.987MB Top Layer of: [name]"
function parseTree(text) {
  const nodes = [];
  for (const line of (text || "").split("\n")) {
    const m = /^(.*?)ID: ([0-9a-f]+) Size:\s*(\S+)(?: Top Layer of: \[(.*)\])?/.exec(line);
    if (!m) continue;
    const prefix = m[1].replace(/[├└]── $/, "");
    nodes.push({ depth: Math.round([...prefix].length / 4), id: m[2], size: parseSize(m[3]), sizeText: m[3],
                 top: m[4] ? m[4].split(/\s+/).filter(Boolean) : [] });
  }
  return nodes;
}

const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

let diskRun = 0;
async function drawDisk(images) {
  const run = ++diskRun;
  const box = $("#disk");
  const shown = images.slice().sort((a, b) => b.Size - a.Size).slice(0, 30);
  if (!shown.length) { box.replaceChildren(el("p", { class: "muted", text: "No images." })); return; }
  const trees = await Promise.all(shown.map((img) =>
    json("GET", "/images/" + img.Id + "/tree").then((t) => parseTree(t.Tree)).catch(() => [])));
  if (run !== diskRun) return;
  const users = new Map();
  trees.forEach((layers) => layers.forEach((l) => users.set(l.id, (users.get(l.id) || 0) + 1)));
  const bars = shown.map((img, i) => {
    let unique = 0, shared = 0;
    for (const l of trees[i]) { if (users.get(l.id) > 1) shared += l.size; else unique += l.size; }
    if (!trees[i].length) unique = img.Size;
    return { img, unique, shared };
  });
  const max = Math.max(...bars.map((b) => b.unique + b.shared), 1);
  // HTML rows so that names wrap and read at any width; the bars are SVG
  const list = el("div", { class: "disk-rows" });
  for (const b of bars) {
    const total = b.unique + b.shared;
    const bar = svg("svg", { viewBox: "0 0 1000 20", preserveAspectRatio: "none", class: "bar", role: "img",
                             "aria-label": `${size(b.unique)} unique, ${size(b.shared)} shared` },
      svg("rect", { x: 0, y: 2, width: (1000 * b.unique) / max, height: 16, class: "unique" }),
      svg("rect", { x: (1000 * b.unique) / max, y: 2, width: (1000 * b.shared) / max, height: 16, class: "shared" }));
    list.append(el("div", { class: "disk-row" },
      el("a", { href: "#/image/" + b.img.Id, class: "disk-name", text: label(b.img) }),
      bar,
      el("span", { class: "disk-size", text: size(total) + (b.shared ? " (" + size(b.shared) + " shared)" : "") })));
  }
  box.replaceChildren(list, el("p", { class: "legend" },
    el("span", { class: "key unique" }), " only this image ", el("span", { class: "key shared" }), " shared with other images"));
}

// ---- pull ------------------------------------------------------------------------------

// podman's pull answer is JSON lines: {"stream": "..."} while it works, then
// {"images": [...], "id": "..."} or {"error": "..."}. podman 4.3 prints
// steps, not bytes, so progress is counted in steps; the final line is 100%.
function pullStep(line, blobs) {
  if (/^Trying to pull/.test(line)) return 5;
  if (/^Getting image source signatures/.test(line)) return 10;
  if (/^Copying blob/.test(line)) return 10 + 70 * (1 - Math.pow(0.5, blobs));
  if (/^Copying config/.test(line)) return 85;
  if (/^Writing manifest/.test(line)) return 92;
  if (/^Storing signatures/.test(line)) return 97;
  return null;
}

function setProgress(bar, label, pct, text) {
  $(bar).value = pct;
  $(label).textContent = text !== undefined ? text : Math.round(pct) + "%";
}

async function pull(ev) {
  ev.preventDefault();
  const reference = $("#pull-ref").value.trim();
  const log = $("#pull-log");
  log.textContent = "";
  $("#pull-go").disabled = true;
  setProgress("#pull-progress", "#pull-percent", 0);
  let pct = 0, blobs = 0, failed = null, done = null;
  const handle = (msg) => {
    if (msg.stream) {
      const line = msg.stream.trim();
      log.textContent += msg.stream;
      log.scrollTop = log.scrollHeight;
      if (/^Copying blob/.test(line)) blobs++;
      const step = pullStep(line, blobs);
      if (step !== null && step > pct) { pct = step; setProgress("#pull-progress", "#pull-percent", pct); }
    }
    if (msg.error) failed = msg.error;
    if (msg.id) done = msg;
  };
  try {
    const resp = await call("POST", "/images/pull" + q({ reference, tlsVerify: $("#pull-tls").checked ? "" : "false" }));
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done: end } = await reader.read();
      if (value) buf += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
        if (line.trim()) handle(JSON.parse(line));
      }
      if (end) break;
    }
    if (buf.trim()) handle(JSON.parse(buf));
    if (failed) throw new Error(failed);
    if (!done) throw new Error("the pull ended without a result");
    setProgress("#pull-progress", "#pull-percent", 100, "100% \u00b7 pulled " + shortId(done.id));
    await refreshList();
  } catch (e) {
    setProgress("#pull-progress", "#pull-percent", pct, "failed");
    log.textContent += "\nPull failed: " + e.message + "\n";
    banner("Pull failed: " + e.message);
  } finally {
    $("#pull-go").disabled = false;
  }
}

// ---- load / import with upload progress -----------------------------------------------

function upload(file) {
  const kind = ($("input[name=upload-kind]:checked") || {}).value || "load";
  const result = $("#upload-result");
  result.textContent = "";
  result.className = "result";
  let url = API + "/images/load";
  if (kind === "import") url = API + "/images/import" + q({ reference: $("#import-ref").value.trim() });
  const xhr = new XMLHttpRequest();
  xhr.open("POST", url);
  for (const [k, v] of Object.entries(headers({ "Content-Type": "application/x-tar" }))) xhr.setRequestHeader(k, v);
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) setProgress("#upload-progress", "#upload-percent", (100 * e.loaded) / e.total,
      Math.round((100 * e.loaded) / e.total) + "% of " + size(e.total));
  };
  xhr.upload.onload = () => setProgress("#upload-progress", "#upload-percent", 100, "100% sent, podman is storing it\u2026");
  xhr.onload = () => {
    if (xhr.status >= 200 && xhr.status < 300) {
      const body = JSON.parse(xhr.responseText || "{}");
      const what = body.Names ? "Loaded " + body.Names.join(", ") : "Imported " + shortId(body.Id);
      setProgress("#upload-progress", "#upload-percent", 100, "done");
      result.textContent = what;
      refreshList();
    } else {
      result.textContent = (kind === "load" ? "Load" : "Import") + " failed: " + errorText(xhr.status, xhr.responseText);
      result.className = "result error";
      if (xhr.status === 401) showSignin("Your token was refused.");
    }
  };
  xhr.onerror = () => { result.textContent = "Upload failed: the connection broke."; result.className = "result error"; };
  setProgress("#upload-progress", "#upload-percent", 0, "0% of " + size(file.size));
  xhr.send(file);
}

// ---- prune with a preview ------------------------------------------------------------------

// podman's prune removes images no container uses, and without "all" only
// dangling ones; the list's filters give the same set (prune repeats until
// nothing more goes, so images this frees may follow).
async function prunePreview() {
  const all = $("#prune-all").checked;
  const filters = { containers: ["false"] };
  if (!all) filters.dangling = ["true"];
  const box = $("#prune-list");
  $("#prune-result").textContent = "";
  try {
    const images = (await json("GET", "/images/json" + q({ filters: JSON.stringify(filters) }))) || [];
    if (!images.length) {
      box.replaceChildren(el("p", { text: "Nothing to prune." }));
      $("#prune-go").hidden = true;
      return;
    }
    const total = images.reduce((s, i) => s + i.Size, 0);
    box.replaceChildren(el("p", { text: `These ${images.length} image(s), ${size(total)}, would be removed:` }),
      el("ul", { class: "prune-list" }, images.map((i) => el("li", {}, el("code", { text: shortId(i.Id) }), " ",
        names(i).join(", ") || "<none>", " \u00b7 ", size(i.Size)))));
    $("#prune-go").hidden = false;
    $("#prune-go").textContent = "Prune " + images.length + " image(s)";
  } catch (e) {
    box.replaceChildren(el("p", { class: "error", text: "Preview failed: " + e.message }));
  }
}

async function prune() {
  const result = $("#prune-result");
  try {
    const reports = (await json("POST", "/images/prune" + q({ all: $("#prune-all").checked ? "true" : "" }))) || [];
    const freed = reports.reduce((s, r) => s + (r.Size || 0), 0);
    const errors = reports.filter((r) => r.Err).map((r) => r.Err);
    result.textContent = `Removed ${reports.length - errors.length} image(s), ${size(freed)} freed.` +
      (errors.length ? " Errors: " + errors.join("; ") : "");
    result.className = errors.length ? "result error" : "result";
    $("#prune-go").hidden = true;
    $("#prune-list").replaceChildren();
    await refreshList();
  } catch (e) {
    result.textContent = "Prune failed: " + e.message;
    result.className = "result error";
  }
}

// ---- one image ---------------------------------------------------------------------------------

let current = null;  // the image shown: its inspect data

async function showImage(id) {
  $("#list-view").hidden = true;
  $("#image-view").hidden = false;
  $("#where").textContent = "Image " + shortId(id);
  $("#action-result").textContent = "";
  $("#export-status").textContent = "";
  const body = $("#image-body");
  body.replaceChildren(el("p", { class: "muted", text: "Loading\u2026" }));
  let data;
  try {
    data = await json("GET", "/images/" + enc(id) + "/json");
  } catch (e) {
    current = null;
    $("#image-title").textContent = shortId(id);
    $("#image-actions").hidden = true;
    body.replaceChildren(el("p", { class: "error", text: "Could not open this image: " + e.message }));
    return;
  }
  current = data;
  $("#image-actions").hidden = false;
  applyAccess($("#image-actions"));
  document.title = "podproxy: " + (data.RepoTags && data.RepoTags[0] || shortId(data.Id));
  renderTitle(data);
  // every section has its place at once; the slower ones fill in
  const slot = (title) => section(title, el("p", { class: "muted", text: "Loading\u2026" }));
  const layers = slot("Layers"), requires = slot("What requires this image");
  const hist = slot("History"), chg = slot("Changes");
  const [over, config, env, labels] = overview(data);
  body.replaceChildren(el("div", { class: "pair" }, over, layers), el("div", { class: "pair" }, config, requires),
                       el("div", { class: "pair" }, env, labels), hist, chg);
  const fill = (sec, content) => sec.replaceChildren(sec.firstChild, content);
  const get = (path) => json("GET", "/images/" + data.Id + path).catch((e) => e);
  const jobs = [
    get("/tree").then((t) => fill(layers, treePicture(t, data, "layers", layers.clientWidth))),
    get("/tree?whatrequires=true").then((t) => fill(requires, treePicture(t, data, "requires", requires.clientWidth))),
    get("/history").then((h) => fill(hist, historyTable(h))),
    get("/changes").then((c) => fill(chg, changesTable(c))),
  ];
  await Promise.all(jobs);
}

function renderTitle(data) {
  const title = $("#image-title");
  const tags = data.RepoTags || [];
  const untag = can("POST /libpod/images/{name}/untag");
  title.replaceChildren(...[
    tags.length ? tags.map((t) => el("span", { class: "chip" }, t,
      untag ? el("button", { type: "button", class: "untag", title: "Remove the name " + t, "aria-label": "untag " + t,
                             "data-tag": t, onclick: () => doUntag(t) }, "\u00d7") : null))
      : el("span", { class: "chip none", text: "<none>" }),
    el("code", { class: "id", text: shortId(data.Id) })].flat());
}

function section(title, ...content) {
  return el("section", { class: "card" }, el("h2", { text: title }), ...content);
}

function dl(pairs) {
  const list = el("dl", { class: "kv" });
  for (const [k, v] of pairs) {
    if (v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length)) continue;
    list.append(el("dt", { text: k }), el("dd", {}, Array.isArray(v) ? el("code", { text: JSON.stringify(v) }) : String(v)));
  }
  return list;
}

function kvTable(obj, emptyText) {
  const entries = Object.entries(obj || {});
  if (!entries.length) return el("p", { class: "muted", text: emptyText });
  return el("table", { class: "grid kvtable" }, el("tbody", {}, entries.map(([k, v]) =>
    el("tr", {}, el("th", { scope: "row", text: k }), el("td", {}, el("code", { text: v }))))));
}

function overview(d) {
  const c = d.Config || {};
  const created = new Date(d.Created);
  const env = {};
  for (const e of c.Env || []) { const i = e.indexOf("="); env[i < 0 ? e : e.slice(0, i)] = i < 0 ? "" : e.slice(i + 1); }
  return [
    section("Overview", dl([
      ["ID", d.Id], ["Digest", d.Digest], ["Names", (d.RepoTags || []).join(", ") || "<none>"],
      ["Created", exact(created) + " \u00b7 " + ago(created)], ["Size", size(d.Size)],
      ["Platform", [d.Os, d.Architecture].filter(Boolean).join("/")], ["Author", d.Author],
      ["Comment", d.Comment], ["Parent", d.Parent], ["Manifest type", d.ManifestType]])),
    section("Config", dl([
      ["Entrypoint", c.Entrypoint], ["Cmd", c.Cmd], ["Working dir", c.WorkingDir], ["User", c.User],
      ["Exposed ports", c.ExposedPorts ? Object.keys(c.ExposedPorts) : null], ["Volumes", c.Volumes ? Object.keys(c.Volumes) : null],
      ["Stop signal", c.StopSignal]])),
    section("Environment", kvTable(env, "No environment variables.")),
    section("Labels", kvTable(d.Labels || c.Labels, "No labels.")),
  ];
}

function failed(what, e) { return el("p", { class: "error", text: what + " failed: " + e.message }); }

function historyTable(history) {
  if (history instanceof Error) return failed("History", history);
  return el("table", { class: "grid history" },
    el("thead", {}, el("tr", {}, ["Created", "Created by", "Size", "Comment"].map((h) => el("th", { text: h })))),
    el("tbody", {}, (history || []).map((h) => {
      const created = new Date(h.Created * 1000 || h.created || h.Created);
      return el("tr", {},
        el("td", { "data-label": "Created" }, el("time", { title: exact(created), text: ago(created) })),
        el("td", { "data-label": "Created by" }, el("code", { class: "wrap", text: h.CreatedBy || "" })),
        el("td", { "data-label": "Size", class: "num" }, size(h.Size !== undefined ? h.Size : h.size)),
        el("td", { "data-label": "Comment", text: h.Comment || h.comment || "" }));
    })));
}

const KINDS = { 0: "modified", 1: "added", 2: "deleted" };
function changesTable(changes) {
  if (changes instanceof Error) return failed("Changes", changes);
  if (!changes || !changes.length) return el("p", { class: "muted", text: "No changes against the parent." });
  const shown = changes.slice(0, 500);
  return el("div", {}, el("table", { class: "grid changes" },
    el("thead", {}, el("tr", {}, el("th", { text: "Kind" }), el("th", { text: "Path" }))),
    el("tbody", {}, shown.map((c) => el("tr", { class: "kind-" + KINDS[c.Kind] },
      el("td", { text: KINDS[c.Kind] || c.Kind }), el("td", {}, el("code", { text: c.Path })))))),
    changes.length > shown.length ? el("p", { class: "muted", text: `and ${changes.length - shown.length} more` }) : null);
}

// The tree as a picture: one box per layer (bottom layer first), indented
// by depth, joined by lines; a box that is some image's top layer carries
// that image's names, and this image's own top layer is marked.
function treePicture(tree, data, kind, room) {
  if (tree instanceof Error) return failed("Tree", tree);
  const nodes = parseTree(tree.Tree);
  if (!nodes.length) return el("p", { class: "muted", text: "No layers." });
  const own = new Set(data.RepoTags || []);
  // drawn at the width it is shown at, so its text keeps its size on a narrow window
  const width = Math.max(260, Math.min(640, (room || 600) - 34));
  const boxH = 44, gap = 14, indent = 28;
  const fit = (text, px) => { const n = Math.floor(px / 7.4); return text.length > n ? text.slice(0, n - 1) + "\u2026" : text; };
  const height = nodes.length * (boxH + gap);
  const maxSize = Math.max(...nodes.map((n) => n.size), 1);
  const pic = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "tree " + kind, role: "img",
                           "aria-label": (kind === "layers" ? "layers of " : "images that require ") + shortId(data.Id) });
  const last = [];  // last box seen at each depth, to draw the joins
  nodes.forEach((n, i) => {
    const x = 4 + n.depth * indent, y = i * (boxH + gap) + 2;
    const mine = n.top.some((t) => own.has(t)) || (kind === "layers" && i === nodes.length - 1);
    if (i > 0) {
      const parent = n.depth > 0 ? last[n.depth - 1] : last[0];
      if (parent) {
        const px = parent.x + 10, py = parent.y + boxH;
        pic.append(svg("path", { d: `M${px} ${py} V${y + boxH / 2} H${x}`, class: "join" }));
      }
    }
    last[n.depth] = { x, y };
    last.length = n.depth + 1;
    const w = width - x - 4;
    const g = svg("g", { class: "node" + (mine ? " mine" : "") + (n.top.length ? " top" : "") },
      svg("title", {}, `layer ${n.id}, ${n.sizeText}` + (n.top.length ? `, top layer of ${n.top.join(", ")}` : "")),
      svg("rect", { x, y, width: w, height: boxH, rx: 6 }),
      svg("rect", { x: x + 1, y: y + boxH - 6, width: Math.max(2, ((w - 2) * n.size) / maxSize), height: 5, class: "sizebar" }),
      svg("text", { x: x + 10, y: y + 17, class: "lid" }, n.id + "  \u00b7  " + n.sizeText),
      svg("text", { x: x + 10, y: y + 33, class: "tags" }, fit(n.top.length ? n.top.join(", ") : "(layer)", w - 20)));
    pic.append(g);
  });
  return el("div", { class: "tree-wrap" }, pic);
}

// ---- actions on one image -----------------------------------------------------------------------

function result(text, isError) {
  const r = $("#action-result");
  r.textContent = text;
  r.className = "result" + (isError ? " error" : "");
}

function splitRef(ref) {  // "repo:tag" -> [repo, tag]; a ':' in a registry port is not a tag
  const slash = ref.lastIndexOf("/"), colon = ref.lastIndexOf(":");
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, "latest"];
}

async function doTag(ev) {
  ev.preventDefault();
  const ref = $("#tag-ref").value.trim();
  const [repo, tag] = splitRef(ref);
  try {
    await call("POST", "/images/" + current.Id + "/tag" + q({ repo, tag }));
    $("#tag-ref").value = "";
    result("Tagged " + repo + ":" + tag + ".");
    await reloadImage();
  } catch (e) { result("Tag failed: " + e.message, true); }
}

async function doUntag(name) {
  const [repo, tag] = splitRef(name);
  try {
    await call("POST", "/images/" + current.Id + "/untag" + q({ repo, tag }));
    result("Removed the name " + name + ".");
    await reloadImage();
  } catch (e) { result("Untag failed: " + e.message, true); }
}

async function reloadImage() {
  const data = await json("GET", "/images/" + current.Id + "/json");
  current = data;
  renderTitle(data);
}

async function doRemove() {
  const force = $("#remove-force").checked;
  const id = current.Id;
  try {
    const report = await json("DELETE", "/images/" + id + q({ force: force ? "true" : "" }));
    state.flash = "Removed image " + shortId(id) + ((report && report.Untagged) ? " (" + report.Untagged.join(", ") + ")" : "") + ".";
    location.hash = "#/";
  } catch (e) {
    if (e.status === 409) {
      result("This image is in use: " + e.message + ". Stop and remove those containers first, " +
             "or tick \u201cforce\u201d to remove them together with the image.", true);
    } else if (/more than one tag/.test(e.message)) {
      result("Remove failed: " + e.message + ". This image has several names: remove names with \u00d7 first, " +
             "or tick \u201cforce\u201d to remove the image with all of them.", true);
    } else result("Remove failed: " + e.message, true);
  }
}

function fileName(data, format) {
  const base = ((data.RepoTags && data.RepoTags[0]) || shortId(data.Id)).replace(/[^A-Za-z0-9._-]+/g, "_");
  return base + "." + format + ".tar";
}

// A download with the token in Authorization cannot be a plain link: the
// archive comes through XHR (with progress) and is handed to the browser as a blob.
function doExport() {
  const format = $("#export-format").value;
  const data = current;
  const status = $("#export-status");
  const xhr = new XMLHttpRequest();
  // by name when it has one, so that the archive carries the name (as podman save NAME)
  const ref = (data.RepoTags && data.RepoTags[0]) || data.Id;
  xhr.open("GET", API + "/images/" + enc(ref) + "/get" + q({ format }));
  for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
  xhr.responseType = "blob";
  xhr.onprogress = (e) => { status.textContent = "received " + size(e.loaded) + "\u2026"; };
  xhr.onload = async () => {
    if (xhr.status !== 200) {
      const text = await xhr.response.text();
      status.textContent = "";
      result("Export failed: " + errorText(xhr.status, text), true);
      return;
    }
    const url = URL.createObjectURL(xhr.response);
    const a = el("a", { href: url, download: fileName(data, format), hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    status.textContent = "saved " + fileName(data, format) + " (" + size(xhr.response.size) + ")";
  };
  xhr.onerror = () => { status.textContent = ""; result("Export failed: the connection broke.", true); };
  status.textContent = "exporting\u2026";
  xhr.send();
}

// ---- wiring ---------------------------------------------------------------------------------------

function route() {
  if (!state.access) return;
  const m = /^#\/image\/(.+)$/.exec(location.hash);
  if (m) showImage(decodeURIComponent(m[1]));
  else showList();
}

function toggle(panel) {
  for (const p of ["#pull-panel", "#upload-panel", "#prune-panel"]) if (p !== panel) $(p).hidden = true;
  $(panel).hidden = !$(panel).hidden;
}

function wire() {
  $("#signin-form").addEventListener("submit", signin);
  $("#signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    state.access = null;
    showSignin("Signed out.");
  });
  $("#filter-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.filter = $("#filter").value.trim();
    refreshList();
  });
  $("#images thead").addEventListener("click", sortBy);
  $("#pull-open").addEventListener("click", () => toggle("#pull-panel"));
  $("#upload-open").addEventListener("click", () => { toggle("#upload-panel"); applyAccess($("#upload-panel")); });
  $("#prune-open").addEventListener("click", () => { toggle("#prune-panel"); if (!$("#prune-panel").hidden) prunePreview(); });
  $("#pull-form").addEventListener("submit", pull);
  $("#prune-preview").addEventListener("click", prunePreview);
  $("#prune-all").addEventListener("change", prunePreview);
  $("#prune-go").addEventListener("click", prune);
  for (const r of $$("input[name=upload-kind]")) {
    r.addEventListener("change", () => { $("#import-name-row").hidden = r.value !== "import" || !r.checked; });
  }
  $("#upload-file").addEventListener("change", (ev) => { if (ev.target.files[0]) upload(ev.target.files[0]); });
  const drop = $("#drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer.files[0]) upload(ev.dataTransfer.files[0]);
  });
  $("#tag-form").addEventListener("submit", doTag);
  $("#remove-go").addEventListener("click", doRemove);
  $("#export-go").addEventListener("click", doExport);
  window.addEventListener("hashchange", () => {
    banner(state.flash || "", "ok");
    state.flash = "";
    route();
  });
}

async function start() {
  wire();
  try {
    await loadAccess(true);
    route();
  } catch (e) {
    if (e.status === 401) showSignin(token() ? "Your token was refused: " + e.message : "");
    else banner("podproxy did not answer: " + e.message);
  }
}

document.addEventListener("DOMContentLoaded", start);
