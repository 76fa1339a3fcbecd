// The graph: steps as a top-to-bottom column of nodes (the order they are stored in), with SVG edges for each
// step's `next`, `then` and `else`. Drag and drop: palette items onto the canvas or a gap between steps (insert),
// a node onto a gap (reorder), a node's port onto another node or End (rewire). All text goes in by textContent.

import { END, LABELS, jumps, steps } from "./editor-model.js";

const SVG = "http://www.w3.org/2000/svg";
export const DRAG_ADD = "application/x-levqor-add";
export const DRAG_MOVE = "application/x-levqor-move";
export const DRAG_WIRE = "application/x-levqor-wire";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function summary(step) {
  switch (step.type) {
    case "http_request": return `${step.method || "GET"} ${step.url || t("(no URL yet)")}`;
    case "log": case "approval": return step.message || t("(no message yet)");
    case "condition": return step.expression ? t("if %(expression)s", { expression: step.expression }) : t("(no expression yet)");
    case "delay": return t("wait %(seconds)s s", { seconds: step.seconds ?? "?" });
    case "email": return t("to %(people)s", { people: (Array.isArray(step.to) ? step.to.filter(Boolean).join(", ") : "") || t("(nobody yet)") });
    case "transform": return t("set %(names)s", { names: Object.keys(step.set || {}).join(", ") || t("(nothing yet)") });
    case "ai": return step.prompt || t("(no prompt yet)");
    default: return "";
  }
}

/** "1 error", "2 warnings": one text for one, another for more (each language words both). */
export function issueCount(kind, count) {
  if (kind === "error") return count === 1 ? t("%(num)s error", { num: count }) : t("%(num)s errors", { num: count });
  return count === 1 ? t("%(num)s warning", { num: count }) : t("%(num)s warnings", { num: count });
}

/** Draws `definition` into the list `list`, with `issues` (per step index: {errors, warnings}) as badges. */
export function renderNodes(list, definition, selected, issues) {
  list.replaceChildren();
  const all = steps(definition);
  all.forEach((step, index) => {
    list.append(slot(index, all.length));
    const item = el("li", "wf-node-item");
    item.dataset.index = String(index);
    item.draggable = true;
    const button = el("button", "wf-node");
    button.type = "button";
    button.id = `wf-node-${index}`;
    button.dataset.index = String(index);
    button.setAttribute("aria-pressed", String(selected === index));
    const type = (step && LABELS[step.type]) || t("Unknown type");
    button.append(el("span", "visually-hidden", t("Step %(number)s:", { number: index + 1 }) + " "), el("span", "wf-node-type", type));
    button.append(el("span", "wf-node-id", (step && step.id) || t("(no id)")));
    button.append(el("span", "wf-node-summary", step ? summary(step) : ""));
    const found = issues[index] || { errors: [], warnings: [] };
    const words = [];
    if (found.errors.length) words.push(issueCount("error", found.errors.length));
    if (found.warnings.length) words.push(issueCount("warning", found.warnings.length));
    if (words.length) {
      const badge = el("span", `wf-badge ${found.errors.length ? "wf-badge-error" : "wf-badge-warning"}`, words.join(", "));
      badge.title = [...found.errors, ...found.warnings].map((i) => i.message).join("\n");
      button.append(badge);
      item.classList.add(found.errors.length ? "has-error" : "has-warning");
    }
    if (selected === index) item.classList.add("is-selected");
    item.append(button, ports(definition, index));
    list.append(item);
  });
  if (all.length) list.append(slot(all.length, all.length));
  const end = el("li", "wf-end", t("End"));
  end.dataset.target = END;
  end.id = "wf-node-end";
  list.append(end);
}

function slot(index, count) {
  const item = el("li", "wf-slot");
  item.dataset.slot = String(index);
  item.setAttribute("aria-hidden", "true");
  item.append(el("span", "wf-slot-hint", index === count ? t("Drop to add at the end") : t("Drop to insert here")));
  return item;
}

function ports(definition, index) {
  const box = el("div", "wf-ports");
  box.append(el("span", "wf-ports-label", t("Drag to connect")));
  for (const jump of jumps(definition, index)) {
    const port = el("span", `wf-port wf-port-${jump.field}`, `${jump.field} →`);
    port.draggable = true;
    port.dataset.field = jump.field;
    port.dataset.index = String(index);
    port.title = t("Drag onto a step or End to set “%(field)s”", { field: jump.field });
    box.append(port);
  }
  return box;
}

/** The edges of every step, drawn into `svg` over the laid-out nodes of `canvas`. */
export function renderEdges(svg, canvas, definition) {
  svg.replaceChildren();
  const box = canvas.getBoundingClientRect();
  svg.setAttribute("width", String(canvas.clientWidth)); // not scrollWidth: that counts this SVG too, so it never shrinks
  svg.setAttribute("height", String(canvas.clientHeight));
  const defs = document.createElementNS(SVG, "defs");
  for (const kind of ["next", "then", "else"]) {
    const marker = document.createElementNS(SVG, "marker");
    marker.id = `wf-arrow-${kind}`;
    for (const [name, value] of Object.entries({ viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" })) marker.setAttribute(name, value);
    const tip = document.createElementNS(SVG, "path");
    tip.setAttribute("d", "M0,0 L10,5 L0,10 z");
    tip.setAttribute("class", `wf-arrow wf-arrow-${kind}`);
    marker.append(tip);
    defs.append(marker);
  }
  svg.append(defs);
  const rect = (node) => {
    const r = node.getBoundingClientRect();
    return { left: r.left - box.left, right: r.right - box.left, top: r.top - box.top, bottom: r.bottom - box.top,
      cx: (r.left + r.right) / 2 - box.left, cy: (r.top + r.bottom) / 2 - box.top };
  };
  const nodes = [...canvas.querySelectorAll(".wf-node-item")];
  const byId = new Map();
  steps(definition).forEach((step, index) => {
    if (step && typeof step.id === "string" && !byId.has(step.id)) byId.set(step.id, index);
  });
  const endNode = canvas.querySelector(".wf-end");
  const lanes = { right: 0, left: 0 };
  nodes.forEach((node, index) => {
    const from = rect(node);
    for (const jump of jumps(definition, index)) {
      const targetIndex = jump.target === END ? nodes.length : byId.get(jump.target);
      if (targetIndex === undefined) continue; // an unknown target: the validator pins it on the field
      const to = rect(targetIndex === nodes.length ? endNode : nodes[targetIndex]);
      const shift = jump.field === "then" ? 28 : jump.field === "else" ? -28 : 0;
      let d;
      if (targetIndex === index + 1) {
        d = `M${from.cx + shift},${from.bottom} L${to.cx + shift},${to.top}`;
      } else {
        const side = jump.field === "else" ? "left" : "right";
        lanes[side] += 1;
        const out = side === "right" ? Math.max(from.right, to.right) + 14 + lanes[side] * 12 : Math.min(from.left, to.left) - 14 - lanes[side] * 12;
        const sx = side === "right" ? from.right : from.left;
        const tx = side === "right" ? to.right : to.left;
        const sy = from.cy + (jump.field === "then" ? -6 : jump.field === "else" ? 6 : 0);
        const ty = to.cy;
        d = `M${sx},${sy} L${out},${sy} L${out},${ty} L${tx},${ty}`;
      }
      const path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      path.setAttribute("class", `wf-edge wf-edge-${jump.field}${jump.implicit ? " wf-edge-implicit" : ""}`);
      path.setAttribute("marker-end", `url(#wf-arrow-${jump.field})`);
      svg.append(path);
      if (!jump.implicit) {
        const label = document.createElementNS(SVG, "text");
        label.setAttribute("class", `wf-edge-label wf-edge-label-${jump.field}`);
        const straight = targetIndex === index + 1;
        label.setAttribute("x", String(straight ? from.cx + shift + (shift < 0 ? -6 : 6) : (jump.field === "else" ? from.left - 8 : from.right + 8)));
        label.setAttribute("y", String(straight ? from.bottom + 14 : from.cy + (jump.field === "else" ? 20 : -10)));
        label.setAttribute("text-anchor", (straight && shift < 0) || (!straight && jump.field === "else") ? "end" : "start");
        label.textContent = jump.field;
        svg.append(label);
      }
    }
  });
}

/** Wires drag and drop on the canvas once; `on` has add(type, at|null), move(from, at), wire(index, field, target). */
export function enableDragAndDrop(canvas, on) {
  let dragging = null; // what this page is dragging, for dragover (dataTransfer's data is unreadable there)
  canvas.addEventListener("dragstart", (event) => {
    const port = event.target.closest && event.target.closest(".wf-port");
    const item = event.target.closest && event.target.closest(".wf-node-item");
    if (port) {
      dragging = { kind: DRAG_WIRE, index: Number(port.dataset.index), field: port.dataset.field };
      event.dataTransfer.setData(DRAG_WIRE, JSON.stringify(dragging));
    } else if (item) {
      dragging = { kind: DRAG_MOVE, index: Number(item.dataset.index) };
      event.dataTransfer.setData(DRAG_MOVE, item.dataset.index);
    }
    event.dataTransfer.effectAllowed = "move";
    canvas.classList.add("is-dragging");
  });
  document.addEventListener("dragstart", (event) => {
    const item = event.target.closest && event.target.closest("[data-step-type]");
    if (!item) return;
    dragging = { kind: DRAG_ADD, type: item.dataset.stepType };
    event.dataTransfer.setData(DRAG_ADD, item.dataset.stepType);
    event.dataTransfer.effectAllowed = "copy";
    canvas.classList.add("is-dragging");
  });
  document.addEventListener("dragend", () => {
    dragging = null;
    canvas.classList.remove("is-dragging");
    canvas.querySelectorAll(".is-over").forEach((n) => n.classList.remove("is-over"));
  });
  const targetOf = (event) => {
    if (!dragging) return null;
    const slotEl = event.target.closest(".wf-slot");
    const node = event.target.closest(".wf-node-item, .wf-end");
    if (dragging.kind === DRAG_WIRE) return node;
    if (slotEl) return slotEl;
    return dragging.kind === DRAG_ADD ? canvas : null;
  };
  canvas.addEventListener("dragover", (event) => {
    const target = targetOf(event);
    canvas.querySelectorAll(".is-over").forEach((n) => n !== target && n.classList.remove("is-over"));
    if (!target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = dragging.kind === DRAG_ADD ? "copy" : "move";
    if (target !== canvas) target.classList.add("is-over");
  });
  canvas.addEventListener("drop", (event) => {
    const target = targetOf(event);
    if (!target) return;
    event.preventDefault();
    const what = dragging;
    dragging = null;
    canvas.classList.remove("is-dragging");
    const at = target.dataset && target.dataset.slot !== undefined ? Number(target.dataset.slot) : null;
    if (what.kind === DRAG_ADD) on.add(what.type, at);
    else if (what.kind === DRAG_MOVE && at !== null) on.move(what.index, at);
    else if (what.kind === DRAG_WIRE) {
      on.wire(what.index, what.field, target.dataset.target === END ? END : Number(target.dataset.index));
    }
  });
}
