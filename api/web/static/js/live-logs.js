// The panel's live logs (admin/logs.html): reads the server-sent event stream with the filters of the form,
// shows each event newest first and keeps the last `data-keep` on screen. Pause closes the stream; resume
// reopens it after the last event shown, so what happened meanwhile (as far as the server still keeps it)
// appears then. Clear empties the list. A filter change starts over with the server's kept events.
// Everything is written with textContent: an event's text is never markup.
(function () {
  var root = document.querySelector("[data-live-logs]");
  if (!root || !window.EventSource) { return; }
  var form = document.querySelector("[data-live-filters]");
  var list = root.querySelector("[data-live-list]");
  var empty = root.querySelector("[data-live-empty]");
  var status = root.querySelector("[data-live-status]");
  var count = root.querySelector("[data-live-count]");
  var pause = root.querySelector("[data-live-pause]");
  var clear = root.querySelector("[data-live-clear]");
  var keep = parseInt(root.getAttribute("data-keep"), 10) || 500;
  var levelNames = { debug: t("debug"), info: t("info"), warning: t("warning"), error: t("error"), critical: t("critical") };
  var sourceNames = { run: t("Runs"), telemetry: t("Telemetry errors"), audit: t("Audit log"), billing: t("Billing"), log: t("Other log lines") };
  var stream = null;
  var paused = false;
  var lastSeq = 0;

  function say(text) { status.textContent = text; }

  function filters() {
    var params = new URLSearchParams();
    ["tenant", "level", "source"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) { params.set(name, value); }
    });
    return params;
  }

  function open() {
    var params = filters();
    params.set("after", String(lastSeq));
    stream = new EventSource(root.getAttribute("data-stream") + "?" + params.toString());
    stream.addEventListener("open", function () { say(t("Live")); root.setAttribute("data-state", "live"); });
    stream.addEventListener("error", function () {
      if (!paused) { say(t("Reconnecting…")); root.setAttribute("data-state", "reconnecting"); }
    });
    stream.addEventListener("live", function (message) { show(JSON.parse(message.data)); });
  }

  function close() {
    if (stream) { stream.close(); stream = null; }
  }

  function show(event) {
    lastSeq = Math.max(lastSeq, event.seq);
    list.insertBefore(row(event), list.firstChild);
    while (list.children.length > keep) { list.removeChild(list.lastChild); }
    counted();
  }

  function counted() {
    count.textContent = t("Events shown: %(num)s", { num: list.children.length });
    empty.hidden = list.children.length > 0;
  }

  function part(tag, className, text) {
    var element = document.createElement(tag);
    element.className = className;
    element.textContent = text;
    return element;
  }

  function row(event) {
    var item = document.createElement("li");
    item.className = "live-row live-" + event.level;
    item.setAttribute("data-level", event.level);
    item.setAttribute("data-source", event.source);
    var at = new Date(event.at);
    var time = part("time", "live-time", at.toLocaleTimeString(document.documentElement.lang || undefined));
    time.setAttribute("datetime", event.at);
    item.appendChild(time);
    item.appendChild(part("span", "badge live-level", levelNames[event.level] || event.level));
    item.appendChild(part("span", "live-source", sourceNames[event.source] || event.source));
    item.appendChild(part("strong", "live-event", event.event));
    if (event.tenant_id) { item.appendChild(part("code", "live-tenant", t("tenant %(id)s", { id: event.tenant_id }))); }
    var keys = Object.keys(event.fields || {});
    if (keys.length) {
      var fields = document.createElement("span");
      fields.className = "live-fields";
      keys.forEach(function (key) {
        var value = event.fields[key];
        fields.appendChild(part("code", "live-field", key + "=" + (value === null ? "null" : String(value))));
      });
      item.appendChild(fields);
    }
    return item;
  }

  pause.addEventListener("click", function () {
    paused = !paused;
    pause.setAttribute("aria-pressed", paused ? "true" : "false");
    pause.textContent = paused ? t("Resume") : t("Pause");
    root.setAttribute("data-state", paused ? "paused" : "live");
    if (paused) { close(); say(t("Paused")); } else { say(t("Connecting…")); open(); }
  });

  clear.addEventListener("click", function () {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    counted();
  });

  form.addEventListener("change", function () {
    var params = filters();
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    while (list.firstChild) { list.removeChild(list.firstChild); }
    counted();
    lastSeq = 0;
    if (!paused) { close(); open(); }
  });
  form.addEventListener("submit", function (submitted) { submitted.preventDefault(); });

  window.addEventListener("pagehide", close);
  counted();
  open();
})();
