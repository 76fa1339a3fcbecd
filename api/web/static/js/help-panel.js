// The contextual help panel (templates/ai/_help_panel.html): the top bar's Help button opens and closes it, Escape
// closes it, and focus goes to the question on opening and back to the button on closing. htmx sends the question
// and reads the credits.
(function () {
  function start() {
    var toggle = document.querySelector("[data-help-toggle]");
    var panel = document.querySelector("[data-help-panel]");
    if (!toggle || !panel) { return; }
    var question = panel.querySelector("textarea");
    var credits = panel.querySelector("[data-credits-url]");
    // The AI credits in the footer: read when the panel first opens, and again after each answer (the answer's
    // HX-Trigger header raises `levqor-credits`); not polled.
    function readCredits() {
      if (credits && window.htmx) { window.htmx.ajax("GET", credits.dataset.creditsUrl, { target: credits, swap: "innerHTML" }); }
    }
    document.body.addEventListener("levqor-credits", readCredits);
    function show(open) {
      var first = open && credits && !credits.hasChildNodes();
      panel.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (first) { readCredits(); }
      if (open && question) { question.focus(); } else if (!open) { toggle.focus(); }
    }
    toggle.addEventListener("click", function () { show(panel.hidden); });
    panel.querySelector("[data-help-close]").addEventListener("click", function () { show(false); });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); show(false); }
    });
    // Enter sends the question (Shift+Enter a new line), as in a chat.
    if (question) {
      question.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          question.form.requestSubmit();
        }
      });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
