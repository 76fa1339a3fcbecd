// The visual editor of a workflow definition (ES module, no framework, no build step). State is one plain
// definition; every change goes through `change()`, which records undo, redraws the graph, the JSON tab and the
// panel, and asks the validator (POST /api/workflows/validate, debounced) whose issues are pinned by JSON path.
// Saving POSTs (version 1) or PUTs (the next version) through the JSON API with the session's CSRF header.

import { buildFields, pinIssues } from "./editor-form.js";
import { enableDragAndDrop, issueCount, renderEdges, renderNodes } from "./editor-graph.js";
import {
  END, History, LABELS, STEP_TYPES, canonical, emptyDefinition, insertStep, moveStep, newStep, parsePath,
  removeStep, renameStep, setAt, steps,
} from "./editor-model.js";

const VALIDATE_DELAY_MS = 300;
const root = document.getElementById("wf-editor");
const $ = (id) => document.getElementById(id);
const ui = {
  nodes: $("wf-nodes"), edges: $("wf-edges"), canvas: $("wf-canvas"), panelTitle: $("wf-panel-title"),
  panelBody: $("wf-panel-body"), json: $("wf-json"), jsonError: $("wf-json-error"), check: $("wf-check"),
  note: $("wf-save-note"), problems: $("wf-problems"), palette: $("wf-palette"), title: $("wf-title"),
  undo: root.querySelector('[data-action="undo"]'), redo: root.querySelector('[data-action="redo"]'),
  save: root.querySelector('[data-action="save"]'),
};
const state = {
  definition: JSON.parse($("wf-initial").textContent) || emptyDefinition(),
  selected: null, // a step's index, or null for the workflow's own fields
  workflowId: root.dataset.workflowId || null,
  schema: null,
  report: { errors: [], warnings: [] },
  checking: null,
  timer: null,
  fields: {},
  saving: false,
};
state.saved = state.workflowId ? canonical(state.definition) : null;
const history = new History(canonical(state.definition));

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- Changing the definition -------------------------------------------------------------------------------

/** Makes `definition` current. `key` coalesces typing into one undo step; `from` says which view typed it
 * (that view keeps its inputs and focus; the others redraw). */
function change(definition, { key = null, from = null, select } = {}) {
  state.definition = definition;
  history.record(canonical(definition), key);
  if (select !== undefined) state.selected = select;
  if (state.selected !== null && state.selected >= steps(definition).length) state.selected = null;
  redraw(from);
  scheduleCheck();
}

function redraw(from) {
  const focused = document.activeElement && root.contains(document.activeElement) ? document.activeElement.id : null;
  drawGraph();
  if (from !== "json") ui.json.value = canonical(state.definition);
  if (from !== "panel") drawPanel();
  ui.undo.disabled = history.past.length === 0;
  ui.redo.disabled = history.future.length === 0;
  ui.save.disabled = state.saving || !dirty();
  pinAll();
  if (focused && document.activeElement !== $(focused) && $(focused)) $(focused).focus();
}

function dirty() {
  return canonical(state.definition) !== state.saved;
}

function undoRedo(which) {
  const text = which === "undo" ? history.undo() : history.redo();
  if (text === null) return;
  state.definition = JSON.parse(text);
  if (state.selected !== null && state.selected >= steps(state.definition).length) state.selected = null;
  redraw(null);
  scheduleCheck();
  announce(which === "undo" ? t("Undone.") : t("Redone."));
}

function addStep(type, at) {
  const count = steps(state.definition).length;
  const index = at === null || at === undefined ? (state.selected === null ? count : state.selected + 1) : at;
  const step = newStep(state.definition, type);
  const following = steps(state.definition)[index];
  if (type === "condition" && following && following.id) step.then = following.id; // keep what follows reachable
  change(insertStep(state.definition, step, index), { select: index });
  announce(t("Added %(type)s step %(step)s as step %(number)s.", { type: LABELS[type], step: step.id, number: index + 1 }));
}

function wire(index, field, target) {
  const id = target === END ? END : steps(state.definition)[target] && steps(state.definition)[target].id;
  if (typeof id !== "string" || !id) return;
  const following = steps(state.definition)[index + 1];
  const value = field === "next" && following && following.id === id ? undefined : id;
  change(setAt(state.definition, ["steps", index, field], value), { select: index });
  announce(t("Step %(step)s %(field)s goes to %(target)s.", { step: steps(state.definition)[index].id, field, target: id }));
}

function move(from, to) {
  if (to === from || to === from + 1) return;
  change(moveStep(state.definition, from, to), { select: to > from ? to - 1 : to });
}

// ---- The graph ---------------------------------------------------------------------------------------------

function drawGraph() {
  renderNodes(ui.nodes, state.definition, state.selected, issuesByStep());
  if (!steps(state.definition).length) {
    const empty = el("li", "wf-empty", t("No steps yet. Drag a step from the palette here, or focus one and press Enter."));
    ui.nodes.prepend(empty);
  }
  requestAnimationFrame(() => renderEdges(ui.edges, ui.canvas, state.definition));
}

ui.nodes.addEventListener("click", (event) => {
  const button = event.target.closest(".wf-node");
  if (!button) return;
  state.selected = Number(button.dataset.index);
  redraw(null);
  $(`wf-node-${state.selected}`).focus();
});
ui.nodes.addEventListener("keydown", (event) => {
  const button = event.target.closest(".wf-node");
  if (!button || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
  event.preventDefault();
  const index = Number(button.dataset.index) + (event.key === "ArrowUp" ? -1 : 1);
  if ($(`wf-node-${index}`)) $(`wf-node-${index}`).focus();
});
enableDragAndDrop(ui.canvas, { add: addStep, move, wire });
window.addEventListener("resize", () => renderEdges(ui.edges, ui.canvas, state.definition));

// ---- The palette -------------------------------------------------------------------------------------------

function drawPalette() {
  ui.palette.replaceChildren();
  for (const { type, label, hint } of STEP_TYPES) {
    const item = el("li");
    const button = el("button", "wf-palette-item");
    button.type = "button";
    button.draggable = true;
    button.dataset.stepType = type;
    button.setAttribute("aria-describedby", "wf-palette-help");
    button.append(el("span", `wf-type-mark wf-type-${type}`), el("span", "wf-palette-label", label), el("span", "wf-palette-hint", hint));
    button.addEventListener("click", () => {
      addStep(type, null);
      const first = ui.panelBody.querySelector("input, select, textarea");
      if (first) first.focus();
    });
    item.append(button);
    ui.palette.append(item);
  }
}
drawPalette();

// ---- The side panel ----------------------------------------------------------------------------------------

function drawPanel() {
  ui.panelBody.replaceChildren();
  if (!state.schema) return;
  const definitionSchema = state.schema.definition;
  const defs = definitionSchema.$defs || {};
  if (state.selected === null) {
    ui.panelTitle.textContent = t("Workflow");
    ui.panelBody.append(el("p", "small muted", t("Select a step in the graph to edit it; these are the workflow's own fields.")));
    const stepLevel = el("div", "wf-issues-here");
    stepLevel.id = "wf-panel-issues";
    ui.panelBody.append(stepLevel);
    state.fields = buildFields(ui.panelBody, {
      schema: definitionSchema, defs, value: state.definition, path: [], idPrefix: "wf-def", skip: ["steps"],
      targets: [], onChange: (path, value, key) => change(setAt(state.definition, path, value), { key, from: "panel" }),
    });
    return;
  }
  const index = state.selected;
  const step = steps(state.definition)[index];
  const schema = step && state.schema.steps[step.type];
  ui.panelTitle.textContent = t("%(type)s · step %(number)s", { type: LABELS[step && step.type] || t("Step"), number: index + 1 });
  const actions = el("div", "wf-panel-actions");
  actions.setAttribute("role", "group");
  actions.setAttribute("aria-label", t("Step actions"));
  const action = (id, text, handler, disabled) => {
    const button = el("button", "button button-small", text);
    button.type = "button";
    button.id = id;
    button.disabled = disabled;
    button.addEventListener("click", handler);
    actions.append(button);
  };
  const count = steps(state.definition).length;
  action("wf-move-up", t("Move up"), () => move(index, index - 1), index === 0);
  action("wf-move-down", t("Move down"), () => move(index, index + 2), index >= count - 1);
  action("wf-deselect", t("Workflow fields"), () => { state.selected = null; redraw(null); $("wf-def-name").focus(); }, false);
  action("wf-delete", t("Delete step"), () => {
    const id = step && step.id;
    change(removeStep(state.definition, index), { select: count > 1 ? Math.max(0, index - 1) : null });
    announce(t("Deleted step %(step)s.", { step: id }));
    (document.getElementById(`wf-node-${state.selected}`) || ui.palette.querySelector("button")).focus();
  }, false);
  actions.lastChild.classList.add("button-danger");
  ui.panelBody.append(actions);
  const stepLevel = el("div", "wf-issues-here");
  stepLevel.id = "wf-panel-issues";
  ui.panelBody.append(stepLevel);
  if (!schema) {
    ui.panelBody.append(el("p", "muted", t("This step's type is unknown; fix it in the JSON tab.")));
    state.fields = {};
    return;
  }
  const targets = [...steps(state.definition).filter((s, i) => i !== index && s && s.id).map((s) => s.id), END];
  state.fields = buildFields(ui.panelBody, {
    schema, defs: schema.$defs || {}, value: step, path: ["steps", index], idPrefix: `wf-step`, skip: ["type", ...(step.type === "condition" ? ["next"] : [])],
    targets,
    onChange: (path, value, key) => {
      const next = path.length === 3 && path[2] === "id" && typeof value === "string"
        ? renameStep(state.definition, index, value) : setAt(state.definition, path, value);
      change(next, { key, from: "panel" });
    },
  });
}

// ---- Validation --------------------------------------------------------------------------------------------

function scheduleCheck() {
  clearTimeout(state.timer);
  ui.check.textContent = t("Checking…");
  ui.check.className = "wf-check";
  state.timer = setTimeout(check, VALIDATE_DELAY_MS);
}

async function check() {
  if (state.checking) state.checking.abort();
  const controller = new AbortController();
  state.checking = controller;
  const sent = canonical(state.definition);
  try {
    const answer = await api("POST", "/api/workflows/validate", sent, controller.signal);
    if (sent !== canonical(state.definition)) return; // a newer check is on its way
    if (!answer.ok) throw new Error((answer.body && answer.body.message) || `HTTP ${answer.status}`);
    state.report = { errors: answer.body.errors || [], warnings: answer.body.warnings || [] };
    showReport();
  } catch (err) {
    if (err.name === "AbortError") return;
    ui.check.textContent = t("Could not check: %(reason)s", { reason: err.message });
    ui.check.className = "wf-check is-error";
  }
}

function showReport() {
  const { errors, warnings } = state.report;
  const words = [];
  if (errors.length) words.push(issueCount("error", errors.length));
  if (warnings.length) words.push(issueCount("warning", warnings.length));
  ui.check.textContent = words.length ? words.join(", ") : t("No problems");
  ui.check.className = `wf-check ${errors.length ? "is-error" : warnings.length ? "is-warning" : "is-ok"}`;
  drawGraph();
  pinAll();
}

function allIssues() {
  return [...state.report.errors, ...state.report.warnings];
}

function issuesByStep() {
  const found = {};
  for (const issue of allIssues()) {
    const [first, index] = parsePath(issue.path);
    if (first !== "steps" || typeof index !== "number") continue;
    found[index] = found[index] || { errors: [], warnings: [] };
    found[index][issue.severity === "error" ? "errors" : "warnings"].push(issue);
  }
  return found;
}

/** Issues under the panel's fields (by their first member past the step), the rest above them and in Problems. */
function pinAll() {
  const byField = {};
  const unpinned = [];
  for (const issue of allIssues()) {
    const parts = parsePath(issue.path);
    let name = null;
    if (state.selected === null && parts.length && parts[0] !== "steps") name = parts[0];
    if (state.selected !== null && parts[0] === "steps" && parts[1] === state.selected && parts.length > 2) name = parts[2];
    if (name !== null && state.fields[name]) (byField[name] = byField[name] || []).push(issue);
    else if (state.selected !== null ? parts[0] === "steps" && parts[1] === state.selected : parts.length === 0) unpinned.push(issue);
  }
  pinIssues(state.fields, byField);
  const here = $("wf-panel-issues");
  if (here) here.replaceChildren(...unpinned.map((issue) => el("p", `field-message field-${issue.severity}`, `${issue.severity === "error" ? t("Error:") : t("Warning:")} ${issue.message}`)));
  drawProblems();
}

function drawProblems() {
  const issues = allIssues();
  if (!issues.length) {
    ui.problems.replaceChildren(el("li", "muted", state.timer ? t("No problems found.") : t("Not checked yet.")));
    return;
  }
  ui.problems.replaceChildren(...issues.map((issue) => {
    const item = el("li", `wf-problem wf-problem-${issue.severity}`);
    const button = el("button", "wf-problem-link");
    button.type = "button";
    button.append(el("span", "wf-problem-kind", issue.severity === "error" ? t("Error") : t("Warning")), el("code", "", issue.path), el("span", "", issue.message));
    button.addEventListener("click", () => goToIssue(issue));
    item.append(button);
    return item;
  }));
}

function goToIssue(issue) {
  const parts = parsePath(issue.path);
  state.selected = parts[0] === "steps" && typeof parts[1] === "number" && parts[1] < steps(state.definition).length ? parts[1] : null;
  redraw(null);
  const name = state.selected === null ? parts[0] : parts[2];
  const target = (name && state.fields[name] && $(state.fields[name].id)) || $(`wf-node-${state.selected}`) || ui.panelTitle;
  if (target) target.focus();
}

// ---- The JSON tab ------------------------------------------------------------------------------------------

ui.json.addEventListener("input", () => {
  let parsed;
  try {
    parsed = JSON.parse(ui.json.value);
  } catch (err) {
    ui.jsonError.textContent = t("Not valid JSON: %(reason)s", { reason: err.message });
    ui.jsonError.hidden = false;
    return;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    ui.jsonError.textContent = t("A definition is a JSON object.");
    ui.jsonError.hidden = false;
    return;
  }
  ui.jsonError.hidden = true;
  change(parsed, { key: "json", from: "json" });
});
ui.json.addEventListener("blur", () => { if (ui.jsonError.hidden) ui.json.value = canonical(state.definition); });

const tabs = [...root.querySelectorAll('[role="tab"]')];
function showTab(tab) {
  for (const other of tabs) {
    const on = other === tab;
    other.setAttribute("aria-selected", String(on));
    other.tabIndex = on ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !on;
  }
  if (tab.id === "wf-tab-graph") requestAnimationFrame(() => renderEdges(ui.edges, ui.canvas, state.definition));
}
tabs.forEach((tab, i) => {
  tab.addEventListener("click", () => showTab(tab));
  tab.addEventListener("keydown", (event) => {
    if (!["ArrowLeft", "ArrowRight"].includes(event.key)) return;
    const next = tabs[(i + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    showTab(next);
    next.focus();
  });
});

// ---- Saving ------------------------------------------------------------------------------------------------

async function api(method, url, body, signal) {
  const response = await fetch(url, {
    method, body, signal, credentials: "same-origin",
    headers: {
      "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": root.dataset.csrf,
      "Accept-Language": document.documentElement.lang, // the API's messages in the page's language
    },
  });
  let parsed = null;
  try { parsed = await response.json(); } catch (err) { parsed = null; }
  if (response.status === 401) {
    parsed = { message: t("your session has ended; sign in again in another tab (this one keeps your changes), then retry") };
  }
  return { ok: response.ok, status: response.status, body: parsed };
}

async function save() {
  if (state.saving) return;
  state.saving = true;
  ui.save.disabled = true;
  const sent = canonical(state.definition);
  const creating = !state.workflowId;
  try {
    const answer = await api(creating ? "POST" : "PUT", creating ? "/api/workflows" : `/api/workflows/${encodeURIComponent(state.workflowId)}`, sent);
    if (answer.ok) {
      state.workflowId = answer.body.id;
      state.saved = sent;
      root.dataset.version = String(answer.body.version);
      if (creating) window.history.replaceState(null, "", levqorI18n.url(`/app/workflows/${encodeURIComponent(answer.body.id)}/edit`));
      state.savedName = answer.body.name;
      ui.title.textContent = t("Edit %(name)s", { name: answer.body.name });
      const warnings = answer.body.warnings || [];
      const version = answer.body.version;
      note(() => t("Saved version %(version)s.", { version }) + (warnings.length ? ` ${issueCount("warning", warnings.length)}: ${warnings.map((w) => w.message).join(" ")}` : ""), warnings.length ? "warning" : "ok", answer.body.id);
      state.report = { errors: [], warnings: warnings.map((w) => ({ ...w, severity: "warning" })) };
      showReport();
    } else if (answer.status === 422 && answer.body && Array.isArray(answer.body.errors)) {
      state.report = { errors: answer.body.errors, warnings: answer.body.warnings || [] };
      showReport();
      const count = answer.body.errors.length;
      note(() => t("Not saved: %(count)s to fix (listed under Problems).", { count: issueCount("error", count) }), "error");
    } else {
      note(() => t("Not saved: %(reason)s.", { reason: (answer.body && answer.body.message) || t("the server answered %(status)s", { status: answer.status }) }), "error");
    }
  } catch (err) {
    note(() => t("Not saved: %(reason)s.", { reason: err.message }), "error");
  } finally {
    state.saving = false;
    ui.save.disabled = !dirty();
  }
}

/** Shows what saving did; `words()` makes its text, again after a live language switch. */
function note(words, kind, workflowId) {
  state.redrawNote = () => note(words, kind, workflowId);
  ui.note.replaceChildren(document.createTextNode(words() + " "));
  if (workflowId) {
    const link = el("a", "", t("Open the workflow's page"));
    link.href = levqorI18n.url(`/app/workflows/${encodeURIComponent(workflowId)}`);
    ui.note.append(link);
  }
  ui.note.className = `wf-save-note alert ${kind === "ok" ? "alert-ok" : kind === "warning" ? "alert-warning" : "alert-error"}`;
  ui.note.hidden = false;
}

function announce(text) {
  ui.check.dataset.announce = text;
  const live = $("wf-announce") || (() => {
    const region = el("p", "visually-hidden");
    region.id = "wf-announce";
    region.setAttribute("aria-live", "polite");
    region.dataset.i18nOwn = ""; // this script says what it announces
    root.append(region);
    return region;
  })();
  live.textContent = text;
}

ui.save.addEventListener("click", save);
ui.undo.addEventListener("click", () => undoRedo("undo"));
ui.redo.addEventListener("click", () => undoRedo("redo"));
document.addEventListener("keydown", (event) => {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
  const key = event.key.toLowerCase();
  if (event.target === ui.json) return; // the JSON text keeps its own undo
  if (key === "z" && !event.shiftKey) { event.preventDefault(); undoRedo("undo"); }
  else if ((key === "z" && event.shiftKey) || key === "y") { event.preventDefault(); undoRedo("redo"); }
  else if (key === "s") { event.preventDefault(); save(); }
});
window.addEventListener("beforeunload", (event) => {
  if (!dirty() || (state.saved === null && !steps(state.definition).length)) return;
  event.preventDefault();
  event.returnValue = "";
});

// ---- Another language, chosen live (static/js/language.js): redraw what this script drew -------------------

document.addEventListener("levqor:language", () => {
  drawPalette();
  redraw("json"); // the JSON tab keeps its text, valid or not
  if (state.schema) showReport();
  if (state.redrawNote) state.redrawNote();
});

// ---- Start -------------------------------------------------------------------------------------------------

async function start() {
  redraw(null);
  const answer = await api("GET", "/api/workflows/schema").catch((err) => ({ ok: false, body: { message: err.message } }));
  if (!answer.ok) {
    ui.check.textContent = t("Could not load the step types: %(reason)s", { reason: (answer.body && answer.body.message) || answer.status });
    ui.check.className = "wf-check is-error";
    return;
  }
  state.schema = answer.body;
  root.classList.add("is-ready");
  redraw(null);
  scheduleCheck();
  focusFromAddress();
}

/** `?step=<id>&field=<name>` (a suggestion's link): selects that step and focuses the field, else the step. */
function focusFromAddress() {
  const wanted = new URLSearchParams(window.location.search);
  const stepId = wanted.get("step");
  const field = wanted.get("field");
  if (stepId === null && field === null) return;
  const index = steps(state.definition).findIndex((step) => step && step.id === stepId);
  state.selected = index >= 0 ? index : null;
  redraw(null);
  const target = (field && state.fields[field] && $(state.fields[field].id)) || $(`wf-node-${state.selected}`) || ui.panelTitle;
  if (target) target.focus();
}

// ---- A definition from elsewhere (static/js/describe-it.js): loaded as one change, so Undo takes it back -------

root.addEventListener("levqor:load-definition", (event) => {
  change(event.detail.definition, { select: null });
  announce(t("The draft is on the canvas; Undo takes it back."));
});

start();
