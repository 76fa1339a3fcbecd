// The editor's model: the definition as plain JSON, its canonical text, undo/redo, and the edits the graph and
// the panel make. Pure functions over plain objects: no DOM here.

// Labels and hints are read when drawn (getters), so a live language switch redraws them in the new language.
export const STEP_TYPES = [
  { type: "log", get label() { return t("Log"); }, get hint() { return t("Write a line to the run's log"); } },
  { type: "http_request", get label() { return t("HTTP request"); }, get hint() { return t("Call a URL"); } },
  { type: "condition", get label() { return t("Condition"); }, get hint() { return t("Branch on an expression"); } },
  { type: "delay", get label() { return t("Delay"); }, get hint() { return t("Wait, for up to 30 days"); } },
  { type: "email", get label() { return t("E-mail"); }, get hint() { return t("Send an e-mail"); } },
  { type: "approval", get label() { return t("Approval"); }, get hint() { return t("Wait for a person to approve"); } },
  { type: "transform", get label() { return t("Transform"); }, get hint() { return t("Set variables from expressions"); } },
  { type: "ai", get label() { return t("AI"); }, get hint() { return t("Ask a language model"); } },
];
export const LABELS = {};
for (const entry of STEP_TYPES) Object.defineProperty(LABELS, entry.type, { get: () => entry.label, enumerable: true });
export const END = "end";

// What a new step of each type starts with: its required fields, empty, so the validator says what to fill in.
const TEMPLATES = {
  log: { level: "info", message: "" },
  http_request: { method: "GET", url: "" },
  condition: { expression: "", then: END, else: END },
  delay: { seconds: 60 },
  email: { to: [""], subject: "", body: "" },
  approval: { class: "B", message: "" },
  transform: { set: {} },
  ai: { prompt: "" },
};

/** The text the JSON tab shows and the API receives: two-space indents, keys in their order. */
export function canonical(definition) {
  return JSON.stringify(definition, null, 2);
}

export function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

export function emptyDefinition() {
  return { name: t("Untitled workflow"), steps: [] };
}

export function steps(definition) {
  return Array.isArray(definition.steps) ? definition.steps : [];
}

/** A new step of `type` with an id no step has yet (`log_1`, `http_request_2` ...). */
export function newStep(definition, type) {
  const taken = new Set(steps(definition).map((s) => s && s.id));
  let n = 1;
  while (taken.has(`${type}_${n}`)) n += 1;
  return { id: `${type}_${n}`, type, ...clone(TEMPLATES[type] || {}) };
}

/** Inserts `step` at `index`; when the step before went to the step now after by an explicit `next`, it now
 * goes to the new step (dropping a step on an edge splices it into that edge). */
export function insertStep(definition, step, index) {
  const next = clone(definition);
  next.steps = steps(next);
  const before = next.steps[index - 1];
  const after = next.steps[index];
  if (before && after && before.type !== "condition" && before.next === after.id) before.next = step.id;
  next.steps.splice(index, 0, step);
  return next;
}

export function moveStep(definition, from, to) {
  const next = clone(definition);
  const [step] = next.steps.splice(from, 1);
  next.steps.splice(to > from ? to - 1 : to, 0, step);
  return next;
}

export function removeStep(definition, index) {
  const next = clone(definition);
  next.steps.splice(index, 1);
  return next;
}

/** Sets (or, with `undefined`, removes) the value at `path` (keys and positions) in a copy of `root`. */
export function setAt(root, path, value) {
  const next = clone(root);
  let holder = next;
  for (const key of path.slice(0, -1)) {
    if (holder[key] === null || typeof holder[key] !== "object") holder[key] = {};
    holder = holder[key];
  }
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(holder)) holder.splice(last, 1);
    else delete holder[last];
  } else {
    holder[last] = value;
  }
  return next;
}

/** Renames a step and every `next`, `then` and `else` that named it (unless another step has the new id). */
export function renameStep(definition, index, newId) {
  const oldId = steps(definition)[index].id;
  let next = setAt(definition, ["steps", index, "id"], newId);
  const clash = steps(definition).some((s, i) => i !== index && s && s.id === newId);
  if (!oldId || clash) return next;
  next.steps.forEach((step) => {
    for (const field of ["next", "then", "else"]) if (step && step[field] === oldId) step[field] = newId;
  });
  return next;
}

/** Where a step goes: [{field, target, implicit}]; a step without `next` falls through to the following one. */
export function jumps(definition, index) {
  const all = steps(definition);
  const step = all[index] || {};
  if (step.type === "condition") {
    return ["then", "else"].map((field) => ({ field, target: step[field], implicit: false }));
  }
  if (typeof step.next === "string" && step.next) return [{ field: "next", target: step.next, implicit: false }];
  const following = all[index + 1];
  return [{ field: "next", target: following ? following.id : END, implicit: true }];
}

/** Snapshots of the canonical text; typing into one field within a second is one step of undo. */
export class History {
  constructor(text) {
    this.past = [];
    this.future = [];
    this.current = text;
    this.lastKey = null;
    this.lastAt = 0;
  }

  record(text, key) {
    if (text === this.current) return false;
    const now = Date.now();
    const coalesce = key && key === this.lastKey && now - this.lastAt < 1000;
    if (!coalesce) this.past.push(this.current);
    this.future = [];
    this.current = text;
    this.lastKey = key || null;
    this.lastAt = now;
    return true;
  }

  undo() {
    if (!this.past.length) return null;
    this.future.push(this.current);
    this.current = this.past.pop();
    this.lastKey = null;
    return this.current;
  }

  redo() {
    if (!this.future.length) return null;
    this.past.push(this.current);
    this.current = this.future.pop();
    this.lastKey = null;
    return this.current;
  }
}

/** A validator path (`$.steps[2].headers['X-Key']`) as its members: ["steps", 2, "headers", "X-Key"]. */
export function parsePath(path) {
  const parts = [];
  const pattern = /\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]/g;
  let match;
  while ((match = pattern.exec(path)) !== null) {
    if (match[1] !== undefined) parts.push(match[1]);
    else if (match[2] !== undefined) parts.push(Number(match[2]));
    else parts.push(match[3].replace(/\\(.)/g, "$1"));
  }
  return parts;
}
