// The side panel's form, generated from a JSON Schema (the validator's own models, from /api/workflows/schema):
// strings, numbers, booleans, enums, objects of strings as key/value rows, arrays as rows, nested objects as a
// fieldset, anything else as JSON. Every input has a label; each field has a message element that validator
// issues are pinned to (aria-describedby). Changes are reported as (path, value or undefined, undo key).

const FLOW_FIELDS = ["next", "then", "else"];
const LONG_FIELDS = ["message", "body", "prompt", "description", "expression"];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function resolve(schema, defs) {
  if (schema && schema.$ref) return defs[schema.$ref.split("/").pop()] || {};
  return schema || {};
}

/** The schema of a property without its `null` branch, and whether null (absent) is allowed. */
function unwrap(schema, defs) {
  let found = resolve(schema, defs);
  let nullable = false;
  if (Array.isArray(found.anyOf)) {
    const rest = found.anyOf.filter((branch) => branch.type !== "null");
    nullable = rest.length < found.anyOf.length;
    found = rest.length === 1 ? { ...resolve(rest[0], defs), title: found.title, default: found.default } : { title: found.title };
  }
  return { schema: found, nullable };
}

function kindOf(schema, name) {
  if (Array.isArray(schema.enum)) return "enum";
  if (schema.type === "string") return LONG_FIELDS.includes(name) ? "text" : "string";
  if (schema.type === "number" || schema.type === "integer") return "number";
  if (schema.type === "boolean") return "boolean";
  if (schema.type === "array" && schema.items && ["string", "integer", "number"].includes(resolve(schema.items, {}).type)) return "list";
  if (schema.type === "object" && schema.properties) return "object";
  if (schema.type === "object" && schema.additionalProperties && schema.additionalProperties.type === "string") return "pairs";
  return "json";
}

function labelText(name, schema, required) {
  const words = {
    json: t("JSON body"), else: t("Else"), then: t("Then"), next: t("Next"), class: t("Approval class"),
    timeout_s: t("Timeout (seconds)"), seconds: t("Seconds"), url: t("URL"), id: t("Step id"), max_tokens: t("Max tokens"),
    name: t("Name"), description: t("Description"), message: t("Message"), level: t("Level"), method: t("Method"),
    headers: t("Headers"), body: t("Body"), expected_status: t("Expected status"), expression: t("Expression"),
    to: t("To"), subject: t("Subject"), prompt: t("Prompt"), model: t("Model"), purpose: t("Purpose"),
    set: t("Variables"), on_timeout: t("On timeout"), retry: t("Retry policy"), max_attempts: t("Max attempts"),
    backoff: t("Backoff"), initial_interval_s: t("First wait (seconds)"), max_interval_s: t("Longest wait (seconds)"),
    save_response: t("Save the response"), input_schema: t("Input schema"),
  };
  const base = words[name] || (schema.title || name).replace(/_/g, " ");
  return required ? t("%(label)s (required)", { label: base }) : base;
}

/** Builds the fields of `value` (an object) under `path` into `container`; answers {name: field} for pinning. */
export function buildFields(container, options) {
  const { schema, defs, value, path, idPrefix, onChange, targets, skip = [] } = options;
  const required = new Set(schema.required || []);
  const fields = {};
  const names = Object.keys(schema.properties || {}).filter((n) => !skip.includes(n));
  const ordered = [...names.filter((n) => !FLOW_FIELDS.includes(n)), ...names.filter((n) => FLOW_FIELDS.includes(n))];
  let flowBox = null;
  for (const name of ordered) {
    const { schema: prop, nullable } = unwrap(schema.properties[name], defs);
    const id = `${idPrefix}-${name}`;
    const field = el("div", "field wf-field");
    field.dataset.field = name;
    const message = el("div", "wf-field-messages");
    message.id = `${id}-msg`;
    const ctx = { id, name, prop, defs, nullable, required: required.has(name), value: value ? value[name] : undefined,
      path: [...path, name], onChange, describedBy: message.id };
    if (FLOW_FIELDS.includes(name)) {
      if (!flowBox) {
        flowBox = el("fieldset", "wf-flow");
        flowBox.append(el("legend", "", t("Goes to")));
        container.append(flowBox);
      }
      targetField(field, ctx, targets);
      field.append(message);
      flowBox.append(field);
    } else {
      FIELDS[kindOf(prop, name)](field, ctx);
      field.append(message);
      container.append(field);
    }
    fields[name] = { field, message, id };
  }
  return fields;
}

function label(ctx, text) {
  const node = el("label", "", text || labelText(ctx.name, ctx.prop, ctx.required));
  node.htmlFor = ctx.id;
  return node;
}

function describe(input, ctx) {
  input.id = ctx.id;
  input.setAttribute("aria-describedby", ctx.describedBy);
  if (ctx.required) input.setAttribute("aria-required", "true");
  return input;
}

function emptyValue(ctx) {
  return ctx.required ? "" : undefined;
}

const FIELDS = {
  string(field, ctx) {
    const input = describe(el("input"), ctx);
    input.type = "text";
    input.autocomplete = "off";
    input.spellcheck = false;
    if (ctx.prop.maxLength) input.maxLength = ctx.prop.maxLength;
    input.value = typeof ctx.value === "string" ? ctx.value : ctx.value === undefined ? "" : JSON.stringify(ctx.value);
    if (ctx.prop.default !== undefined && ctx.prop.default !== null) input.placeholder = String(ctx.prop.default);
    input.addEventListener("input", () => ctx.onChange(ctx.path, input.value === "" ? emptyValue(ctx) : input.value, ctx.id));
    field.append(label(ctx), input);
  },
  text(field, ctx) {
    const input = describe(el("textarea"), ctx);
    input.rows = ctx.name === "body" || ctx.name === "prompt" ? 4 : 2;
    input.spellcheck = false;
    input.value = typeof ctx.value === "string" ? ctx.value : "";
    input.addEventListener("input", () => ctx.onChange(ctx.path, input.value === "" ? emptyValue(ctx) : input.value, ctx.id));
    field.append(label(ctx), input);
  },
  number(field, ctx) {
    const input = describe(el("input"), ctx);
    input.type = "number";
    input.step = ctx.prop.type === "integer" ? "1" : "any";
    for (const [bound, attr] of [["minimum", "min"], ["maximum", "max"]]) if (ctx.prop[bound] !== undefined) input.setAttribute(attr, String(ctx.prop[bound]));
    input.value = ctx.value === undefined || ctx.value === null ? "" : String(ctx.value);
    if (ctx.prop.default !== undefined && ctx.prop.default !== null) input.placeholder = String(ctx.prop.default);
    input.addEventListener("input", () => {
      if (input.value === "") return ctx.onChange(ctx.path, undefined, ctx.id);
      const number = Number(input.value);
      ctx.onChange(ctx.path, Number.isFinite(number) ? number : input.value, ctx.id);
    });
    field.append(label(ctx), input);
  },
  boolean(field, ctx) {
    const input = describe(el("input"), ctx);
    input.type = "checkbox";
    input.checked = ctx.value === undefined ? Boolean(ctx.prop.default) : Boolean(ctx.value);
    input.addEventListener("change", () => ctx.onChange(ctx.path, input.checked, ctx.id));
    const wrap = label(ctx);
    wrap.className = "check";
    wrap.prepend(input);
    field.append(wrap);
  },
  enum(field, ctx) {
    const select = describe(el("select"), ctx);
    const current = ctx.value === undefined ? ctx.prop.default : ctx.value;
    if (current === undefined || current === null) select.append(new Option(t("Choose…"), ""));
    for (const option of ctx.prop.enum) select.append(new Option(String(option), String(option), false, option === current));
    select.addEventListener("change", () => ctx.onChange(ctx.path, select.value === "" ? undefined : select.value, ctx.id));
    field.append(label(ctx), select);
  },
  pairs(field, ctx) {
    const box = el("fieldset", "wf-rows");
    box.id = ctx.id;
    box.setAttribute("aria-describedby", ctx.describedBy);
    box.append(el("legend", "", labelText(ctx.name, ctx.prop, ctx.required)));
    const rows = el("div", "wf-rows-list");
    const entries = Object.entries(ctx.value && typeof ctx.value === "object" ? ctx.value : {});
    const emit = () => {
      const next = {};
      rows.querySelectorAll(".wf-row").forEach((row) => {
        const [key, val] = row.querySelectorAll("input");
        if (key.value !== "" || val.value !== "") next[key.value] = val.value;
      });
      ctx.onChange(ctx.path, Object.keys(next).length || ctx.required ? next : undefined, ctx.id);
    };
    const addRow = (key, val, focus) => {
      const n = rows.children.length + 1;
      const row = el("div", "wf-row");
      const keyInput = el("input");
      keyInput.value = key;
      keyInput.setAttribute("aria-label", ctx.name === "set" ? t("Variable %(n)s", { n }) : t("Name %(n)s", { n }));
      const valInput = el("input");
      valInput.value = val;
      valInput.setAttribute("aria-label", ctx.name === "set" ? t("Expression %(n)s", { n }) : t("Value %(n)s", { n }));
      keyInput.placeholder = ctx.name === "set" ? t("variable") : t("name");
      valInput.placeholder = ctx.name === "set" ? t("expression") : t("value");
      const remove = el("button", "button button-small button-ghost", t("Remove"));
      remove.type = "button";
      remove.setAttribute("aria-label", t("Remove row %(n)s of %(field)s", { n, field: ctx.name }));
      remove.addEventListener("click", () => { row.remove(); emit(); });
      for (const input of [keyInput, valInput]) { input.autocomplete = "off"; input.spellcheck = false; input.addEventListener("input", emit); }
      row.append(keyInput, valInput, remove);
      rows.append(row);
      if (focus) keyInput.focus();
    };
    entries.forEach(([key, val]) => addRow(key, typeof val === "string" ? val : JSON.stringify(val), false));
    const add = el("button", "button button-small", ctx.name === "set" ? t("Add variable") : t("Add row"));
    add.type = "button";
    add.addEventListener("click", () => addRow("", "", true));
    box.append(rows, add);
    field.append(box);
  },
  list(field, ctx) {
    const box = el("fieldset", "wf-rows");
    box.id = ctx.id;
    box.setAttribute("aria-describedby", ctx.describedBy);
    box.append(el("legend", "", labelText(ctx.name, ctx.prop, ctx.required)));
    const itemType = resolve(ctx.prop.items, ctx.defs).type;
    const rows = el("div", "wf-rows-list");
    const emit = () => {
      const next = [...rows.querySelectorAll("input")].map((i) => (itemType === "string" ? i.value : i.value === "" ? i.value : Number(i.value)));
      ctx.onChange(ctx.path, next.length || ctx.required ? next : undefined, ctx.id);
    };
    const addRow = (val, focus) => {
      const n = rows.children.length + 1;
      const row = el("div", "wf-row");
      const input = el("input");
      input.type = itemType === "string" ? "text" : "number";
      input.value = val === undefined || val === null ? "" : String(val);
      input.setAttribute("aria-label", t("%(label)s %(n)s", { label: labelText(ctx.name, ctx.prop, false), n }));
      input.autocomplete = "off";
      input.addEventListener("input", emit);
      const remove = el("button", "button button-small button-ghost", t("Remove"));
      remove.type = "button";
      remove.setAttribute("aria-label", t("Remove %(field)s %(n)s", { field: ctx.name, n }));
      remove.addEventListener("click", () => { row.remove(); emit(); });
      row.append(input, remove);
      rows.append(row);
      if (focus) input.focus();
    };
    (Array.isArray(ctx.value) ? ctx.value : []).forEach((v) => addRow(v, false));
    const add = el("button", "button button-small", t("Add"));
    add.type = "button";
    add.setAttribute("aria-label", t("Add %(label)s", { label: labelText(ctx.name, ctx.prop, false) }));
    add.addEventListener("click", () => addRow("", true));
    box.append(rows, add);
    field.append(box);
  },
  object(field, ctx) {
    const box = el("fieldset", "wf-rows");
    box.append(el("legend", "", labelText(ctx.name, ctx.prop, ctx.required)));
    const toggle = el("input");
    toggle.type = "checkbox";
    toggle.id = `${ctx.id}-on`;
    toggle.checked = ctx.value !== undefined && ctx.value !== null;
    toggle.setAttribute("aria-describedby", ctx.describedBy);
    const toggleLabel = el("label", "check", t("Set %(field)s", { field: ctx.name.replace(/_/g, " ") }));
    toggleLabel.htmlFor = toggle.id;
    toggleLabel.prepend(toggle);
    const inner = el("div", "wf-nested");
    const draw = (value) => {
      inner.replaceChildren();
      if (value) buildFields(inner, { schema: ctx.prop, defs: ctx.defs, value, path: ctx.path, idPrefix: ctx.id, onChange: ctx.onChange });
    };
    toggle.addEventListener("change", () => {
      const value = toggle.checked ? {} : undefined;
      ctx.onChange(ctx.path, value, `${ctx.id}-on`);
      draw(value);
    });
    draw(toggle.checked ? ctx.value : null);
    box.append(toggleLabel, inner);
    field.append(box);
  },
  json(field, ctx) {
    const input = describe(el("textarea"), ctx);
    input.rows = 3;
    input.spellcheck = false;
    input.className = "wf-code";
    input.value = ctx.value === undefined || ctx.value === null ? "" : JSON.stringify(ctx.value, null, 2);
    const local = el("p", "field-message field-error");
    local.id = `${ctx.id}-parse`;
    local.hidden = true;
    input.setAttribute("aria-describedby", `${ctx.describedBy} ${local.id}`);
    input.addEventListener("input", () => {
      if (input.value.trim() === "") { local.hidden = true; return ctx.onChange(ctx.path, undefined, ctx.id); }
      try {
        const parsed = JSON.parse(input.value);
        local.hidden = true;
        ctx.onChange(ctx.path, parsed, ctx.id);
      } catch (err) {
        local.textContent = t("Not valid JSON yet; the definition keeps the last valid value.");
        local.hidden = false;
      }
    });
    field.append(label(ctx, t("%(label)s (JSON)", { label: labelText(ctx.name, ctx.prop, ctx.required) })), input, local);
  },
};

function targetField(field, ctx, targets) {
  const select = describe(el("select"), ctx);
  if (ctx.name === "next") select.append(new Option(t("The following step"), "", false, ctx.value === undefined || ctx.value === null));
  const known = new Set();
  for (const id of targets) {
    known.add(id);
    select.append(new Option(id === "end" ? t("End the run") : id, id, false, ctx.value === id));
  }
  if (typeof ctx.value === "string" && ctx.value && !known.has(ctx.value)) {
    select.append(new Option(t("%(step)s (no such step)", { step: ctx.value }), ctx.value, false, true));
  }
  select.addEventListener("change", () => ctx.onChange(ctx.path, select.value === "" ? undefined : select.value, ctx.id));
  field.append(label(ctx), select);
}

/** Shows `issues` (validator issues) under the fields they name; the rest answer back for the panel to show. */
export function pinIssues(fields, issuesByField) {
  for (const [name, { field, message, id }] of Object.entries(fields)) {
    const found = issuesByField[name] || [];
    message.replaceChildren(...found.map((issue) => {
      const line = el("p", `field-message field-${issue.severity}`);
      line.append(el("span", "field-message-kind", (issue.severity === "error" ? t("Error:") : t("Warning:")) + " "), document.createTextNode(issue.message));
      return line;
    }));
    field.classList.toggle("has-error", found.some((i) => i.severity === "error"));
    field.classList.toggle("has-warning", found.length > 0 && found.every((i) => i.severity === "warning"));
    const input = document.getElementById(id);
    if (input) {
      if (found.some((i) => i.severity === "error")) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }
}
