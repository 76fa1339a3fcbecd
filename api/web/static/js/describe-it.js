// "Describe it" in the editor (templates/workflows/editor.html): a sentence → a draft (POST /app/workflows/draft,
// the session's CSRF header), loaded into the canvas through the editor's `levqor:load-definition` event after the
// person confirms replacing the steps there. The editor then checks it and pins the validator's issues on its
// steps; this shows the draft's explanation, whether the AI wrote it, and the validator's report. Save is the
// editor's own.

const root = document.getElementById("wf-editor");
const form = document.getElementById("wf-describe-form");
const prompt = document.getElementById("wf-describe-prompt");
const go = document.getElementById("wf-describe-go");
const result = document.getElementById("wf-describe-result");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function show(...parts) {
  result.replaceChildren(...parts);
  result.hidden = false;
}

function stepsOnCanvas() {
  return document.querySelectorAll("#wf-nodes .wf-node-item").length;
}

async function ask(sentence) {
  const response = await fetch(levqorI18n.url("/app/workflows/draft"), {
    method: "POST", credentials: "same-origin",
    headers: {
      "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": root.dataset.csrf,
      "Accept-Language": document.documentElement.lang,
    },
    body: JSON.stringify({ prompt: sentence, language: document.documentElement.lang }),
  });
  let body = null;
  try { body = await response.json(); } catch (err) { body = null; }
  if (!response.ok || !body || !body.definition) {
    const reason = response.status === 401 || response.status === 303
      ? t("your session has ended; sign in again in another tab, then retry")
      : t("the server answered %(status)s", { status: response.status });
    throw new Error(reason);
  }
  return body;
}

function report(draft) {
  const box = el("div", "wf-describe-report");
  const { errors = [], warnings = [] } = draft.report || {};
  if (draft.report && draft.report.valid) {
    box.append(el("p", "small", warnings.length
      ? t("The draft passes the validator; warnings: %(count)s (pinned on its steps).", { count: warnings.length })
      : t("The draft passes the validator.")));
  } else {
    box.append(el("p", "small field-error", t("Problems the validator found in the draft: %(count)s. They are pinned on its steps and listed under Problems.", { count: errors.length })));
  }
  const issues = [...errors, ...warnings];
  if (issues.length) {
    const list = el("ul", "plain-list small");
    for (const issue of issues) {
      const item = el("li", `field-${issue.severity}`);
      item.append(el("code", "", issue.path), document.createTextNode(` ${issue.message}`));
      list.append(item);
    }
    box.append(list);
  }
  return box;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const sentence = prompt.value.trim();
  if (!sentence) { prompt.focus(); return; }
  go.disabled = true;
  show(el("p", "small muted", t("Drafting…")));
  try {
    const draft = await ask(sentence);
    const parts = [];
    if (draft.source === "fallback" && draft.notice) {
      const notice = el("p", "alert alert-info", draft.notice);
      notice.dataset.fallback = draft.fallback_reason || "";
      parts.push(notice);
    }
    if (stepsOnCanvas() && !window.confirm(t("Replace the steps on the canvas with the draft?"))) {
      show(...parts, el("p", "small", t("The draft was not loaded; the canvas is as it was.")), el("p", "", draft.explanation));
      return;
    }
    root.dispatchEvent(new CustomEvent("levqor:load-definition", { detail: { definition: draft.definition } }));
    const source = draft.source === "ai"
      ? t("Drafted by AI. Check it, then Save.")
      : t("Drafted by Levqor's rules. Check it, then Save.");
    parts.push(el("p", "wf-describe-explanation", draft.explanation), report(draft), el("p", "small muted", source));
    show(...parts);
    result.dataset.source = draft.source;
  } catch (err) {
    show(el("p", "alert alert-error", t("No draft: %(reason)s.", { reason: err.message })));
  } finally {
    go.disabled = false;
  }
});
