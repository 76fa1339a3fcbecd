// The language switcher. Without this script it is a form (POST /language, then the same page in the new
// language). With it, choosing a language switches in place: the choice is kept (the server's cookie, this
// browser's localStorage and, signed in, the account), the same page is fetched in the new language, and its
// texts, links and translations replace the old ones while every element stays: what was typed into a form,
// an editor's unsaved work and the scroll position survive. Scripts that draw their own parts (marked
// data-i18n-own) redraw them on the `levqor:language` event.
(function () {
  var KEY = "levqor-lang";
  // Attributes that carry words or the page's language prefix; a form control's value, a class or a state
  // (selected, disabled, hidden) is the page's own and stays.
  var ATTRIBUTES = [
    "href", "action", "formaction", "title", "aria-label", "aria-description", "placeholder", "alt", "label",
    "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "hx-confirm", "data-confirm", "lang",
  ];

  function remember(tag) {
    try { localStorage.setItem(KEY, tag); } catch (e) { /* private mode: the cookie still holds it */ }
  }

  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }

  function hasField(node) {
    return node.nodeType === Node.ELEMENT_NODE &&
      (node.matches("input, select, textarea, [contenteditable]") || !!node.querySelector("input, select, textarea, [contenteditable]"));
  }

  function shape(node) {
    return node.nodeType === Node.ELEMENT_NODE ? node.tagName + "#" + (node.id || "") : String(node.nodeType);
  }

  /** Pairs the old children with the fresh ones in order, passing over what a script added (an announcer, a
   * drawn row) and what the fresh page has that this one has not. */
  function pairs(a, b) {
    var found = [];
    var i = 0;
    var j = 0;
    while (i < a.length && j < b.length) {
      if (shape(a[i]) === shape(b[j])) {
        found.push([a[i], b[j]]);
        i += 1;
        j += 1;
        continue;
      }
      var ahead = j + 1;
      while (ahead < b.length && shape(b[ahead]) !== shape(a[i])) { ahead += 1; }
      if (ahead < b.length) { j = ahead; } else { i += 1; }
    }
    return found;
  }

  function morph(old, fresh) {
    if (old.nodeType === Node.TEXT_NODE) {
      if (old.data !== fresh.data) { old.data = fresh.data; }
      return;
    }
    if (old.nodeType !== Node.ELEMENT_NODE || old.hasAttribute("data-i18n-own")) { return; }
    ATTRIBUTES.forEach(function (name) {
      var value = fresh.getAttribute(name);
      if (value !== null && old.getAttribute(name) !== value) { old.setAttribute(name, value); }
    });
    if (old.matches("input[type=submit], input[type=button]")) { old.value = fresh.value; }
    if (old.matches("textarea, script, style")) { return; }
    var a = Array.prototype.slice.call(old.childNodes);
    var b = Array.prototype.slice.call(fresh.childNodes);
    var same = a.length === b.length;
    for (var i = 0; same && i < a.length; i += 1) { same = shape(a[i]) === shape(b[i]); }
    if (!same && !hasField(old)) {
      // Changed since it loaded (a poll swapped it): the fresh copy, as nothing typed can be lost in it.
      old.replaceChildren.apply(old, b.map(function (n) { return document.importNode(n, true); }));
      return;
    }
    pairs(a, b).forEach(function (pair) { morph(pair[0], pair[1]); });
  }

  function apply(html, url, tag) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var block = fresh.getElementById("levqor-i18n");
    if (!block || fresh.documentElement.lang !== tag) { return false; }
    document.getElementById("levqor-i18n").textContent = block.textContent;
    window.levqorI18n.load();
    document.documentElement.lang = fresh.documentElement.lang;
    document.title = fresh.title;
    morph(document.body, fresh.body);
    var select = document.getElementById("language-select");
    if (select) { select.value = tag; }
    var target = new URL(url, window.location.href);
    window.history.replaceState(window.history.state, "", target.pathname + target.search + window.location.hash);
    if (window.htmx) { window.htmx.process(document.body); }
    document.dispatchEvent(new CustomEvent("levqor:language", { detail: { locale: tag } }));
    return true;
  }

  async function switchTo(form, tag) {
    remember(tag);
    var body = new URLSearchParams(new FormData(form));
    body.set("language", tag);
    body.set("next", window.levqorI18n.here()); // a script may have moved the page on (a new workflow saved)
    var token = form.querySelector("[name=csrf_token]");
    try {
      var answer = await fetch(form.action, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRF-Token": token ? token.value : "", Accept: "text/html" },
      });
      if (answer.ok && apply(await answer.text(), answer.url, tag)) { return; }
    } catch (e) { /* offline or refused: the form's own way below */ }
    form.submit();
  }

  function start() {
    var form = document.querySelector("[data-language-switcher]");
    if (!form) { return; }
    var select = form.querySelector("select");
    var button = form.querySelector("[data-language-apply]");
    if (button) { button.hidden = true; }
    select.addEventListener("change", function () { switchTo(form, select.value); });
    form.addEventListener("submit", function () { remember(select.value); });
    // The cookie lost (cleared, another device's choice) while this browser still knows the reader's choice.
    var kept = stored();
    var cookie = document.cookie.split("; ").some(function (c) { return c.indexOf("levqor_lang=") === 0; });
    if (!cookie && kept && kept !== document.documentElement.lang &&
        Array.prototype.some.call(select.options, function (o) { return o.value === kept; })) {
      select.value = kept;
      switchTo(form, kept);
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
