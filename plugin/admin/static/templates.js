// Aftercare admin, email templates: a live preview of what is typed
// (POST /api/admin/notifications/preview, shown in a sandboxed iframe),
// saving and resetting through PUT /api/admin/settings (a template that
// does not render is refused there and shown at its field), and a test send.
(function () {
  "use strict";
  var editor = JSON.parse(document.getElementById("template-editor").textContent);
  var app = window.aftercare;
  var messages = app.config.messages;
  var locale = app.config.locale;
  var form = document.querySelector("[data-template-form]");
  var subject = document.getElementById("t-subject");
  var body = document.getElementById("t-body");
  var order = document.getElementById("t-order");
  var frame = document.querySelector("[data-preview-html]");
  var templateError = document.querySelector("[data-template-error]");
  var status = form.querySelector("[data-status]");
  var inUse = form.querySelector("[data-in-use]");
  var saved = editor.saved || editor["default"];
  var sequence = 0;
  var timer = null;

  function json(response) {
    return response.json().then(function (data) { return { status: response.status, body: data }; });
  }

  function setStatus(line, text, kind) {
    line.textContent = text;
    line.className = "status" + (kind ? " " + kind : "");
  }

  function fieldError(container, field, message) {
    var box = Array.prototype.find.call(container.querySelectorAll("[data-field]"),
                                        function (el) { return el.dataset.field === field; });
    if (!box) { return false; }
    var slot = box.querySelector(".field-error");
    slot.textContent = message;
    slot.hidden = false;
    var control = box.querySelector("input, textarea, select");
    control.setAttribute("aria-invalid", "true");
    return control;
  }

  function clearErrors(container) {
    container.querySelectorAll(".field-error").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    container.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  // --- preview ------------------------------------------------------------------
  var previewBox = document.querySelector(".preview");

  function preview() {
    var mine = ++sequence;
    var payload = { kind: editor.kind, locale: editor.language, subject: subject.value, body: body.value };
    if (order.value.trim()) { payload.order = order.value.trim(); }
    app.api("POST", "/notifications/preview?locale=" + encodeURIComponent(locale), payload).then(json).then(function (result) {
      if (mine !== sequence) { return; }  // a newer preview is on its way
      clearErrors(previewBox);
      if (result.status !== 200) {
        if (!fieldError(previewBox, result.body.field, result.body.error)) {
          templateError.textContent = editor.preview_failed.replace("{error}", result.body.error);
          templateError.hidden = false;
        }
        return;
      }
      var shown = result.body;
      document.querySelector("[data-preview-subject]").textContent = shown.subject;
      document.querySelector("[data-preview-sms]").textContent = shown.sms;
      frame.srcdoc = shown.html;
      templateError.textContent = shown.template_error ? editor.template_error.replace("{error}", shown.template_error) : "";
      templateError.hidden = !shown.template_error;
    }).catch(function () { setStatus(status, messages.expired, "bad"); });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 350);
  }
  [subject, body, order].forEach(function (control) { control.addEventListener("input", later); });

  // --- save and reset ----------------------------------------------------------
  function put(value, done) {
    var changes = {};
    changes[editor.key] = value;
    clearErrors(form);
    setStatus(status, messages.saving);
    app.api("PUT", "/settings?locale=" + encodeURIComponent(locale), changes).then(json).then(function (result) {
      if (result.status === 200) { done(result.body[editor.key]); return; }
      if (result.status === 401) { setStatus(status, messages.expired, "bad"); return; }
      var control = fieldError(form, result.body.field, result.body.error);
      if (control) { control.focus(); }
      setStatus(status, messages.failed.replace("{error}", result.body.error), "bad");
    }).catch(function () { setStatus(status, messages.expired, "bad"); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = { subject: subject.value, body: body.value };
    if (value.subject === saved.subject && value.body === saved.body) {
      setStatus(status, messages.nothing);
      return;
    }
    put(value, function (stored) {
      saved = stored || value;
      editor.saved = stored;
      inUse.textContent = editor.own;
      setStatus(status, messages.saved, "ok");
    });
  });

  form.querySelector("[data-reset]").addEventListener("click", function () {
    put(null, function () {
      editor.saved = null;
      saved = editor["default"];
      subject.value = saved.subject;
      body.value = saved.body;
      inUse.textContent = editor.default_in_use;
      setStatus(status, editor.reset, "ok");
      preview();
    });
  });

  // --- choosing another message or language ------------------------------------
  document.querySelector("[data-template-picker]").addEventListener("submit", function (event) {
    event.preventDefault();
    var url = new URL(window.location.href);
    url.searchParams.set("kind", document.getElementById("t-kind").value);
    url.searchParams.set("language", document.getElementById("t-language").value);
    url.searchParams.delete("id_token");
    var link = document.createElement("a");
    link.href = url.pathname + url.search;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();  // admin.js adds a fresh session token to links between pages
  });

  // --- test send -----------------------------------------------------------------
  var testForm = document.querySelector("[data-test-form]");
  var testStatus = testForm.querySelector("[data-test-status]");
  testForm.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(testForm);
    var to = document.getElementById("t-to").value.trim();
    setStatus(testStatus, editor.sending);
    app.api("POST", "/notifications/test?locale=" + encodeURIComponent(locale),
            { kind: editor.kind, locale: editor.language, to: to }).then(json).then(function (result) {
      if (result.status === 200) { setStatus(testStatus, editor.sent.replace("{to}", result.body.to), "ok"); return; }
      var control = fieldError(testForm, result.body.field, result.body.error);
      if (control) { control.focus(); }
      setStatus(testStatus, result.body.error, "bad");
    }).catch(function () { setStatus(testStatus, messages.expired, "bad"); });
  });
}());
