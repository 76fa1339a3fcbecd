// The page's translations for its scripts: `t("English text with %(name)s", {name: value})` answers the text in
// the page's language, read from the JSON block the server embeds (#levqor-i18n); English when it has none.
// Loaded in <head>, before every other script; `levqorI18n.load()` re-reads the block after a live switch.
(function () {
  var messages = {};
  function load() {
    var block = document.getElementById("levqor-i18n");
    try { messages = (block && JSON.parse(block.textContent)) || {}; } catch (e) { messages = {}; }
  }
  function t(msgid, params) {
    var text = Object.prototype.hasOwnProperty.call(messages, msgid) ? messages[msgid] : msgid;
    return text.replace(/%\((\w+)\)s|%%/g, function (whole, name) {
      if (!name) { return "%"; }
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }
  // The page's language prefix ("" in English): links a script makes keep the language (`url("/app/runs")`).
  function prefix() {
    var lang = document.documentElement.lang;
    return lang && lang !== "en" ? "/" + lang : "";
  }
  function url(path) { return prefix() + path; }
  /** This page's path and query without the language prefix. */
  function here() {
    var path = window.location.pathname;
    var start = prefix();
    if (start && (path === start || path.indexOf(start + "/") === 0)) { path = path.slice(start.length) || "/"; }
    return path + window.location.search;
  }
  load();
  window.t = t;
  window.levqorI18n = { load: load, t: t, url: url, here: here };
})();
