// The cookie banner and settings without a reload: a choice is posted to the JSON route (the same record as the
// form, which is what runs without scripts), the banner goes away and the saved message takes the focus.
// `levqorConsent.allows("analytics")` is the hook a script asks before it sets any cookie of a category.
(function () {
  var state = document.getElementById("levqor-consent");
  window.levqorConsent = {
    allows: function (category) {
      var allowed = state ? (state.getAttribute("data-allowed") || "").split(" ") : [];
      return allowed.indexOf(category) !== -1;
    }
  };

  function chosen(form, choice) {
    var boxes = form.querySelectorAll('input[name="categories"]');
    var picked = [];
    boxes.forEach(function (box) {
      if (box.disabled) { return; }
      if (choice === "accept_all") { box.checked = true; }
      if (choice === "reject_all") { box.checked = false; }
      if (box.checked) { picked.push(box.value); }
    });
    return picked;
  }

  function saved(form, answer) {
    var essential = [];
    form.querySelectorAll('input[name="categories"]:disabled').forEach(function (box) { essential.push(box.value); });
    if (state) { state.setAttribute("data-allowed", essential.concat(answer.categories).join(" ")); }
    var banner = form.closest("[data-consent-banner]");
    if (banner) { banner.remove(); }
    var status = document.querySelector("[data-consent-saved]");
    if (status) {
      status.textContent = status.getAttribute("data-text");
      status.hidden = false;
      status.focus();
    }
    document.dispatchEvent(new CustomEvent("levqor:consent", { detail: answer }));
  }

  function submit(event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-consent-form]") || !window.fetch) { return; }
    event.preventDefault();
    var choice = event.submitter ? event.submitter.value : "save";
    var body = JSON.stringify({ categories: chosen(form, choice), version: form.elements.version.value });
    var error = form.querySelector("[data-consent-error]");
    fetch("/api/compliance/legal/consent", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": form.elements.csrf_token.value,
        "Accept-Language": document.documentElement.lang || "en"
      },
      body: body
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) { throw new Error(answer.message || String(response.status)); }
        if (error) { error.hidden = true; }
        saved(form, answer);
      });
    }).catch(function (problem) {
      if (!error || problem instanceof TypeError || problem instanceof SyntaxError) { post(form, choice); return; }
      error.textContent = problem.message;
      error.hidden = false;
    });
  }

  // No answer from the JSON route (offline, a proxy's page): the form's own post, as without scripts.
  function post(form, choice) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "choice";
    field.value = choice;
    form.appendChild(field);
    form.submit();
  }

  document.addEventListener("submit", submit);
})();
