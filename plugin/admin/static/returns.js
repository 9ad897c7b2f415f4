// Aftercare admin, returns queue: each decision goes to
// POST /api/admin/returns/<id>/<action>; the card then shows the new status
// (and only the actions still possible) without reloading the page.
(function () {
  "use strict";
  var labels = JSON.parse(document.getElementById("returns-labels").textContent);
  var locale = window.aftercare.config.locale;

  function clearErrors(card) {
    card.querySelectorAll(".field-error").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    card.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function say(card, text, kind) {
    var line = card.querySelector("[data-return-status]");
    line.textContent = text;
    line.className = "status" + (kind ? " " + kind : "");
  }

  function showError(card, form, field, message) {
    var box = field && form.querySelector("[data-field='" + field + "']");
    if (box) {
      var slot = box.querySelector(".field-error");
      slot.textContent = message;
      slot.hidden = false;
      var control = box.querySelector("select, textarea, input");
      control.setAttribute("aria-invalid", "true");
      control.focus();
    }
    say(card, labels.failed.replace("{error}", message), "bad");
  }

  function update(card, body, action) {
    var badge = card.querySelector("[data-status-badge]");
    badge.textContent = labels.status[body.status] || body.status;
    badge.className = "badge badge-" + body.status;
    card.querySelector("[data-sync]").textContent = labels.sync[body.shopify.state] || body.shopify.state;
    var box = card.querySelector("[data-actions]");
    box.querySelectorAll(".act").forEach(function (control) {
      control.hidden = body.actions.indexOf(control.dataset.action) < 0;
      if (control.tagName === "DETAILS") { control.open = false; }
    });
    box.hidden = !body.actions.length;
    say(card, labels.done[action] || action, "ok");
    card.querySelector("h2").setAttribute("tabindex", "-1");
    card.querySelector("h2").focus();  // the form that had focus may be gone
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-return-form]");
    if (!form) { return; }
    event.preventDefault();
    var card = form.closest("[data-return]");
    var action = form.dataset.returnForm;
    var payload = {};
    form.querySelectorAll("[name]").forEach(function (control) {
      if (control.value.trim() || control.tagName === "SELECT") { payload[control.name] = control.value; }
    });
    clearErrors(card);
    say(card, labels.working);
    form.querySelector("button[type=submit]").disabled = true;
    window.aftercare.api("POST", "/returns/" + card.dataset.return + "/" + action + "?locale=" + encodeURIComponent(locale), payload)
      .then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      }).then(function (result) {
        var button = form.querySelector("button[type=submit]");
        if (button) { button.disabled = false; }
        if (result.status === 200) { update(card, result.body, action); }
        else { showError(card, form, result.body.field, result.body.error); }
      }).catch(function () {
        form.querySelector("button[type=submit]").disabled = false;
        say(card, window.aftercare.config.messages.expired, "bad");
      });
  });
}());
