// The console's page: sign in, list and create functions, show one, edit its configuration and
// code, publish, delete, invoke it, read its triggers, logs and metrics.
import { Lamb } from "./api.js";

const $ = (id) => document.getElementById(id);
const KEY = "lamb-console-credentials";
let lamb = null;
let current = null;

function text(el, value) { el.textContent = value ?? ""; }

function show(signedIn) {
  $("signin").hidden = signedIn;
  $("main").hidden = !signedIn;
  $("signout").hidden = !signedIn;
}

function connect(saved) {
  lamb = new Lamb({ endpoint: location.origin, region: saved.region, credentials: saved });
  text($("who"), `${saved.accessKeyId} · ${saved.region}`);
}

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const saved = Object.fromEntries([...form.entries()].filter(([, v]) => v));
  connect(saved);
  try {
    await lamb.lambda("GET", "/2015-03-31/functions/?MaxItems=1");  // the key works
  } catch (e) {
    text($("signin-error"), e.message);
    return;
  }
  sessionStorage.setItem(KEY, JSON.stringify(saved));
  text($("signin-error"), "");
  show(true);
  await Promise.all([refresh(), loadRoles()]);
}

function signOut() {
  sessionStorage.removeItem(KEY);
  lamb = null;
  text($("who"), "");
  show(false);
}

// What the create form starts from, per runtime: AWS's console uses the same file and handler names.
const PYTHON = { file: "lambda_function.py", handler: "lambda_function.lambda_handler",
  code: "import json\n\n\ndef lambda_handler(event, context):\n    return {\"statusCode\": 200, \"body\": json.dumps(\"Hello from Lamb!\")}\n" };
const NODE = { file: "index.mjs", handler: "index.handler",
  code: "export const handler = async (event) => {\n  return { statusCode: 200, body: JSON.stringify(\"Hello from Lamb!\") };\n};\n" };
const TEMPLATES = {
  "python3.13": PYTHON, "python3.12": PYTHON, "python3.11": PYTHON, "python3.10": PYTHON, "python3.9": PYTHON,
  "nodejs22.x": NODE, "nodejs20.x": NODE,
};

function fillCreateForm() {
  const select = $("create-runtime");
  if (!select.options.length) {
    select.replaceChildren(...Object.keys(TEMPLATES).map((r) => new Option(r, r)));
  }
  const t = TEMPLATES[select.value];
  const form = $("create-form");
  form.elements.handler.value = t.handler;
  form.elements.code.value = t.code;
  text($("create-file"), `Code (${t.file})`);
}

// The roles the key may list (IAM ListRoles), offered in the create form; none if it may not.
async function loadRoles() {
  try {
    const roles = await lamb.listRoles();
    $("roles").replaceChildren(...roles.map((arn) => new Option(arn, arn)));
    const role = $("create-form").elements.role;
    if (!role.value && roles.length === 1) role.value = roles[0];
  } catch {
    $("roles").replaceChildren();
  }
}

async function createFunction(event) {
  event.preventDefault();
  const f = event.target.elements;
  const t = TEMPLATES[f.runtime.value];
  text($("create-error"), "Creating…");
  try {
    await lamb.createFunction({ name: f.name.value, runtime: f.runtime.value, handler: f.handler.value, role: f.role.value,
      memory: f.memory.value, timeout: f.timeout.value, files: { [t.file]: f.code.value } });
    await lamb.settled(f.name.value);
    text($("create-error"), "");
    $("create").open = false;
    await refresh();
    await open(f.name.value);
  } catch (e) {
    text($("create-error"), e.message);
  }
}

async function refresh() {
  const body = $("functions").tBodies[0];
  try {
    const functions = await lamb.listFunctions();
    functions.sort((a, b) => a.FunctionName.localeCompare(b.FunctionName));
    body.replaceChildren(...functions.map(row));
    filter();
    text($("list-error"), functions.length ? "" : "No functions yet: create one here, or with the AWS CLI, boto3, SAM or lamb deploy.");
  } catch (e) {
    text($("list-error"), e.message);
  }
}

function row(f) {
  const tr = document.createElement("tr");
  tr.dataset.name = f.FunctionName;
  for (const v of [f.FunctionName, f.Runtime || f.PackageType, `${f.MemorySize} MB`, f.State || "", f.LastModified]) {
    const td = document.createElement("td");
    text(td, v);
    tr.append(td);
  }
  tr.addEventListener("click", () => open(f.FunctionName));
  return tr;
}

function filter() {
  const q = $("filter").value.toLowerCase();
  for (const tr of $("functions").tBodies[0].rows) tr.hidden = !tr.dataset.name.toLowerCase().includes(q);
}

async function open(name) {
  current = name;
  for (const tr of $("functions").tBodies[0].rows) tr.classList.toggle("selected", tr.dataset.name === name);
  $("detail").hidden = false;
  $("result").hidden = true;
  text($("fn-name"), name);
  text($("detail-error"), "");
  try {
    const [fnInfo, versions, aliases, url] = await Promise.all([
      lamb.getFunction(name), lamb.listVersions(name), lamb.listAliases(name), lamb.functionUrl(name)]);
    const c = fnInfo.Configuration;
    const fields = {
      ARN: c.FunctionArn, Runtime: c.Runtime, Handler: c.Handler, Memory: `${c.MemorySize} MB`,
      Timeout: `${c.Timeout} s`, "Ephemeral storage": `${c.EphemeralStorage?.Size ?? 512} MB`,
      State: [c.State, c.StateReason].filter(Boolean).join(": "),
      "Last update": [c.LastUpdateStatus, c.LastUpdateStatusReason].filter(Boolean).join(": "),
      Role: c.Role, "Code SHA-256": c.CodeSha256, "Code size": `${c.CodeSize} bytes`,
      Layers: (c.Layers || []).map((l) => l.Arn).join("\n"),
      Environment: Object.entries(c.Environment?.Variables || {}).map(([k, v]) => `${k}=${v}`).join("\n"),
      "Function URL": url ? `${url.FunctionUrl} (${url.AuthType})` : "",
      "Last modified": c.LastModified,
    };
    const dl = $("fn-config");
    dl.replaceChildren();
    for (const [k, v] of Object.entries(fields)) {
      if (!v) continue;
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      text(dt, k);
      text(dd, v);
      dl.append(dt, dd);
    }
    const items = [
      ...versions.map((v) => `${v.Version}${v.Description ? ` — ${v.Description}` : ""}`),
      ...aliases.map((a) => `alias ${a.Name} → ${a.FunctionVersion}` +
        Object.entries(a.RoutingConfig?.AdditionalVersionWeights || {}).map(([v, w]) => `, ${v} at ${w}`).join("")),
    ];
    $("fn-versions").replaceChildren(...items.map(item));
    fillEditForms(c);
    await Promise.all([logs(c), metrics(name), triggers(name)]);
  } catch (e) {
    text($("detail-error"), e.message);
  }
}

function item(t) {
  const li = document.createElement("li");
  text(li, t);
  return li;
}

function fillEditForms(c) {
  const f = $("config-form").elements;
  f.description.value = c.Description || "";
  f.memory.value = c.MemorySize;
  f.timeout.value = c.Timeout;
  f.environment.value = Object.entries(c.Environment?.Variables || {}).map(([k, v]) => `${k}=${v}`).join("\n");
  const module = (c.Handler || "index.handler").split(".").slice(0, -1).join(".").replaceAll(".", "/");
  $("code-form").elements.file.value = `${module}${c.Runtime?.startsWith("nodejs") ? ".mjs" : ".py"}`;
}

// KEY=value lines as Environment.Variables; a line without "=" is refused.
function parseEnvironment(textValue) {
  const vars = {};
  for (const line of textValue.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf("=");
    if (at < 1) throw new Error(`Not KEY=value: ${line}`);
    vars[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return vars;
}

// Run one change to the open function, wait until it is applied, then show the function again.
async function change(label, action) {
  const name = current;
  text($("action-status"), `${label}…`);
  text($("detail-error"), "");
  try {
    const result = await action(name);
    await lamb.settled(name);
    text($("action-status"), typeof result === "string" ? result : `${label}: done.`);
    await open(name);
  } catch (e) {
    text($("action-status"), "");
    text($("detail-error"), e.message);
  }
}

function saveConfiguration(event) {
  event.preventDefault();
  const f = event.target.elements;
  change("Saving the configuration", (name) => lamb.updateConfiguration(name, {
    Description: f.description.value, MemorySize: Number(f.memory.value), Timeout: Number(f.timeout.value),
    Environment: { Variables: parseEnvironment(f.environment.value) },
  }));
}

function deployFile(event) {
  event.preventDefault();
  const f = event.target.elements;
  change("Deploying the code", (name) => lamb.updateCode(name, { files: { [f.file.value]: f.code.value } }));
}

function uploadZip(event) {
  event.preventDefault();
  const file = event.target.elements.zip.files[0];
  change("Uploading the package", async (name) => lamb.updateCode(name, { zip: new Uint8Array(await file.arrayBuffer()) }));
}

function publish() {
  change("Publishing", async (name) => `Published version ${(await lamb.publishVersion(name)).Version}.`);
}

async function remove() {
  const name = current;
  if (!confirm(`Delete the function ${name}, its versions and aliases?`)) return;
  try {
    await lamb.deleteFunction(name);
    current = null;
    $("detail").hidden = true;
    await refresh();
  } catch (e) {
    text($("detail-error"), e.message);
  }
}

// The URL, event source mappings and resource-policy statements of the function.
async function triggers(name) {
  const t = await lamb.triggers(name);
  const lines = [];
  if (t.url) lines.push(`Function URL ${t.url.FunctionUrl} (auth ${t.url.AuthType}${t.url.InvokeMode ? `, ${t.url.InvokeMode}` : ""})`);
  for (const m of t.mappings) {
    lines.push(`Event source ${m.EventSourceArn || (m.SelfManagedEventSource ? "self-managed" : "")} — ${m.State}` +
      `${m.BatchSize ? `, batch ${m.BatchSize}` : ""}${m.LastProcessingResult ? `, last: ${m.LastProcessingResult}` : ""}`);
  }
  for (const st of t.statements) {
    const who = typeof st.Principal === "string" ? st.Principal : Object.values(st.Principal).flat().join(", ");
    const arn = st.Condition?.ArnLike?.["AWS:SourceArn"];
    lines.push(`${st.Sid}: ${st.Effect} ${who} ${st.Action}${arn ? ` from ${arn}` : ""}`);
  }
  $("fn-triggers").replaceChildren(...(lines.length ? lines : ["None: only Invoke reaches this function."]).map(item));
}

async function invoke() {
  const name = current;
  try {
    JSON.parse($("payload").value || "{}");
  } catch (e) {
    text($("detail-error"), `The payload is not JSON: ${e.message}`);
    return;
  }
  text($("detail-error"), "");
  try {
    const r = await lamb.invoke(name, $("payload").value || "{}", $("qualifier").value.trim() || undefined);
    $("result").hidden = false;
    const status = $("result-status");
    status.className = r.functionError ? "fail" : "ok";
    text(status, r.functionError ? `Function error (${r.functionError}), version ${r.executedVersion}`
      : `Succeeded (status ${r.status}), version ${r.executedVersion}`);
    let shown = r.payload;
    try { shown = JSON.stringify(JSON.parse(r.payload), null, 2); } catch { /* not JSON: as is */ }
    text($("result-payload"), shown);
    text($("result-log"), r.log);
    const fnInfo = await lamb.getFunction(name);
    await Promise.all([logs(fnInfo.Configuration), metrics(name)]);
  } catch (e) {
    text($("detail-error"), e.message);
  }
}

const METRICS = [["invocations", "Invocations", (v) => String(v)], ["errors", "Errors", (v) => String(v)],
  ["throttles", "Throttles", (v) => String(v)], ["duration", "Duration (average)", (v) => `${v.toFixed(1)} ms`]];

async function metrics(name) {
  const box = $("metrics");
  try {
    const series = await lamb.functionMetrics(name);
    box.replaceChildren(...METRICS.map(([id, label, fmt]) => chart(label, series[id] || [], fmt)));
  } catch (e) {
    box.replaceChildren();
    text($("detail-error"), e.message);
  }
}

// One metric: its label, its latest and peak values, and a line over the hour (an inline SVG).
function chart(label, points, fmt) {
  const div = document.createElement("div");
  div.className = "metric";
  const title = document.createElement("div");
  const values = points.map(([, v]) => v);
  text(title, values.length ? `${label}: ${fmt(values[values.length - 1])} (peak ${fmt(Math.max(...values))})`
    : `${label}: no data`);
  div.append(title);
  if (values.length > 1) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 100 30");
    svg.setAttribute("preserveAspectRatio", "none");
    const t0 = points[0][0], t1 = points[points.length - 1][0], top = Math.max(...values) || 1;
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.map(([t, v]) => `${((t - t0) / (t1 - t0 || 1)) * 100},${30 - (v / top) * 28}`).join(" "));
    svg.append(line);
    div.append(svg);
  }
  return div;
}

async function logs(config) {
  const { group, events } = await lamb.recentLogs(config);
  text($("logs-group"), `${group}, the last hour`);
  text($("logs"), events.map((e) => `${new Date(e.timestamp).toISOString()}  ${e.message.replace(/\n$/, "")}`).join("\n")
    || "No log events in the last hour.");
}

$("create-runtime").addEventListener("change", fillCreateForm);
$("create-form").addEventListener("submit", createFunction);
$("config-form").addEventListener("submit", saveConfiguration);
$("code-form").addEventListener("submit", deployFile);
$("zip-form").addEventListener("submit", uploadZip);
$("publish").addEventListener("click", publish);
$("delete").addEventListener("click", remove);
fillCreateForm();
$("signin-form").addEventListener("submit", signIn);
$("signout").addEventListener("click", signOut);
$("refresh").addEventListener("click", refresh);
$("filter").addEventListener("input", filter);
$("invoke").addEventListener("click", invoke);
$("metrics-refresh").addEventListener("click", () => metrics(current));
$("logs-refresh").addEventListener("click", async () => logs((await lamb.getFunction(current)).Configuration));

const saved = sessionStorage.getItem(KEY);
if (saved) {
  connect(JSON.parse(saved));
  show(true);
  refresh();
  loadRoles();
} else {
  show(false);
}
