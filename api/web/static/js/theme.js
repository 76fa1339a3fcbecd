// Light, dark or the system's choice ("auto"), kept in localStorage. Loaded in <head> so the page never flashes.
(function () {
  var KEY = "levqor-theme";
  var ORDER = ["auto", "light", "dark"];
  function stored() {
    try { return localStorage.getItem(KEY) || "auto"; } catch (e) { return "auto"; }
  }
  function apply(theme) {
    if (theme === "auto") { document.documentElement.removeAttribute("data-theme"); }
    else { document.documentElement.setAttribute("data-theme", theme); }
    var button = document.querySelector("[data-theme-toggle]");
    if (button) {
      var names = { auto: t("auto"), light: t("light"), dark: t("dark") };
      button.querySelector("[data-theme-label]").textContent = t("Theme: %(theme)s", { theme: names[theme] || theme });
      button.setAttribute("aria-pressed", theme === "auto" ? "false" : "true");
    }
  }
  apply(stored());
  document.addEventListener("levqor:language", function () { apply(stored()); });
  document.addEventListener("DOMContentLoaded", function () {
    apply(stored());
    var button = document.querySelector("[data-theme-toggle]");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var next = ORDER[(ORDER.indexOf(stored()) + 1) % ORDER.length];
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: this page only */ }
      apply(next);
    });
  });
})();
