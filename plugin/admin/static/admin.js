// Aftercare admin: the small script behind the server-rendered pages.
// Session tokens (App Bridge's inside Shopify, else the page's own, renewed
// before they lapse), saving settings through PUT /api/admin/settings and
// showing a refused value's message next to its field. No framework.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("aftercare-session").textContent);
  var messages = config.messages;
  var minted = config.token;

  function embedded() {
    try { return window.top !== window.self && window.shopify && typeof window.shopify.idToken === "function"; }
    catch (e) { return false; }
  }

  function expiresAt(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part)).exp * 1000;
    } catch (e) { return 0; }
  }

  function refresh() {
    return fetch(config.api + "/session-token", {
      method: "POST", headers: { Authorization: "Bearer " + minted }, credentials: "omit"
    }).then(function (response) {
      if (!response.ok) { throw new Error("session over"); }
      return response.json();
    }).then(function (body) { minted = body.token; schedule(); return minted; });
  }

  function schedule() {
    var wait = Math.max(expiresAt(minted) - Date.now() - 60000, 5000);
    window.setTimeout(function () { refresh().catch(function () {}); }, wait);
  }

  function sessionToken() {
    if (embedded()) { return window.shopify.idToken(); }
    if (expiresAt(minted) - Date.now() < 30000) { return refresh(); }
    return Promise.resolve(minted);
  }

  function api(method, path, body) {
    return sessionToken().then(function (token) {
      var init = { method: method, credentials: "omit",
                   headers: { Authorization: "Bearer " + token, Accept: "application/json" } };
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetch(config.api + path, init);
    });
  }

  // Links between pages carry a fresh session token: no cookies to rely on.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='/app']");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) { return; }
    event.preventDefault();
    sessionToken().then(function (token) {
      var url = new URL(link.getAttribute("href"), window.location.href);
      url.searchParams.delete("link");
      url.searchParams.set("id_token", token);
      window.location.assign(url.toString());
    }, function () { setStatus(messages.expired, "bad"); });
  });

  // --- settings forms ---------------------------------------------------

  var form = document.querySelector("[data-settings-form]");
  var statusLine = document.querySelector("[data-status]");

  function setStatus(text, kind) {
    if (!statusLine) { return; }
    statusLine.textContent = text;
    statusLine.className = "status" + (kind ? " " + kind : "");
  }

  function checkedValues(container) {
    return Array.prototype.map.call(container.querySelectorAll("input[type=checkbox]:checked"),
                                    function (box) { return box.value; });
  }

  function answers(container) {
    var list = [];
    container.querySelectorAll("[data-answer-list] [data-answer]").forEach(function (set) {
      var question = set.querySelector("[data-part=question]").value;
      var answer = set.querySelector("[data-part=answer]").value;
      set.removeAttribute("data-index");
      if (!question.trim() && !answer.trim()) { return; }
      set.setAttribute("data-index", String(list.length));
      list.push({ question: question, answer: answer,
                  locale: set.querySelector("[data-part=locale]").value || null,
                  states: checkedValues(set.querySelector("[data-part=states]")) });
    });
    return list;
  }

  function read(control) {
    switch (control.dataset.type) {
      case "bool": return control.checked;
      case "int": return /^\s*-?\d+\s*$/.test(control.value) ? parseInt(control.value, 10) : control.value;
      case "list": return checkedValues(control);
      case "answers": return answers(control);
      default: return control.value;
    }
  }

  function values() {
    var out = {};
    form.querySelectorAll("[data-key]").forEach(function (control) { out[control.dataset.key] = read(control); });
    return out;
  }

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  // "help.answers[2].question" → the question box of the third answer sent.
  function locate(field) {
    var nested = /^(.+)\[(\d+)\](?:\.(\w+))?$/.exec(field || "");
    if (nested) {
      var set = form.querySelector("[data-field='" + nested[1] + "'] [data-index='" + nested[2] + "']");
      if (set) {
        var part = nested[3] && set.querySelector("[data-part-field='" + nested[3] + "']");
        return part || set;
      }
      field = nested[1];
    }
    return Array.prototype.find.call(form.querySelectorAll("[data-field]"),
                                     function (el) { return el.dataset.field === field; }) || null;
  }

  function showError(field, message) {
    var box = locate(field);
    if (!box) { setStatus(messages.failed.replace("{error}", (field ? field + ": " : "") + message), "bad"); return; }
    var slot = box.querySelector(".field-error");
    slot.textContent = message;
    slot.hidden = false;
    var control = box.matches("input, select, textarea, fieldset[data-key]") ? box
      : box.querySelector("[data-key], [data-part], input, select, textarea");
    var focusable = control && control.matches("fieldset") ? control.querySelector("input") : control;
    if (control) { control.setAttribute("aria-invalid", "true"); }
    if (focusable) { focusable.focus(); }
    setStatus(messages.failed.replace("{error}", message), "bad");
  }

  if (form) {
    var saved = JSON.stringify(values());
    var savedValues = JSON.parse(saved);

    form.addEventListener("click", function (event) {
      if (event.target.closest("[data-add-answer]")) {
        var container = event.target.closest("[data-type=answers]");
        var list = container.querySelector("[data-answer-list]");
        var n = list.children.length + 1 + "-" + Date.now();
        var html = container.querySelector("[data-answer-template]").innerHTML.replace(/aN-/g, "a" + n + "-");
        list.insertAdjacentHTML("beforeend", html);
        list.lastElementChild.querySelector("input").focus();
      } else if (event.target.closest("[data-remove-answer]")) {
        var set = event.target.closest("[data-answer]");
        var next = set.nextElementSibling || set.parentElement.closest("[data-type=answers]").querySelector("[data-add-answer]");
        set.remove();
        next.querySelector ? (next.querySelector("input") || next).focus() : next.focus();
      }
    });

    form.addEventListener("input", function (event) {
      var shown = event.target.type === "color" && form.querySelector("output[for='" + event.target.id + "']");
      if (shown) { shown.textContent = event.target.value; }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      var current = values();
      var changes = {};
      Object.keys(current).forEach(function (key) {
        if (JSON.stringify(current[key]) !== JSON.stringify(savedValues[key])) { changes[key] = current[key]; }
      });
      if (!Object.keys(changes).length) { setStatus(messages.nothing); return; }
      setStatus(messages.saving);
      api("PUT", "/settings?locale=" + encodeURIComponent(config.locale), changes).then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      }).then(function (result) {
        if (result.status === 200) {
          Object.keys(changes).forEach(function (key) { savedValues[key] = result.body[key]; });
          setStatus(messages.saved, "ok");
        } else if (result.status === 401) {
          setStatus(messages.expired, "bad");
        } else {
          showError(result.body.field, result.body.error);
        }
      }).catch(function () { setStatus(messages.expired, "bad"); });
    });
  }

  // --- pages' own forms (the order search): GET with a fresh session token --

  document.querySelectorAll("form[data-page-form]").forEach(function (pageForm) {
    pageForm.addEventListener("submit", function (event) {
      event.preventDefault();
      sessionToken().then(function (token) {
        var url = new URL(pageForm.getAttribute("action"), window.location.href);
        new FormData(pageForm).forEach(function (value, key) { url.searchParams.set(key, value); });
        url.searchParams.set("id_token", token);
        window.location.assign(url.toString());
      }, function () { setStatus(messages.expired, "bad"); });
    });
  });

  // --- Health: replaying a failed webhook delivery ------------------------

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-replay]");
    if (!button || button.disabled) { return; }
    var row = button.closest("tr");
    button.disabled = true;
    setStatus(messages.replaying);
    api("POST", "/webhooks/" + encodeURIComponent(button.dataset.replay) + "/replay").then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      if (result.status !== 200) {
        button.disabled = false;
        setStatus(result.status === 401 ? messages.expired : messages.replayFailed.replace("{error}", result.body.error), "bad");
        return;
      }
      var delivery = result.body;
      var word = messages.statuses[delivery.status] || delivery.status;
      var badge = row.querySelector("[data-delivery-status]");
      badge.textContent = word;
      badge.className = "badge badge-" + delivery.status;
      row.querySelector("[data-delivery-attempts]").textContent = String(delivery.attempts);
      row.querySelector("[data-delivery-error]").textContent = delivery.error || "";
      button.disabled = delivery.status === "processed";
      setStatus(messages.replayed.replace("{id}", delivery.id).replace("{status}", word),
                delivery.status === "processed" ? "ok" : "bad");
    }).catch(function () { button.disabled = false; setStatus(messages.expired, "bad"); });
  });

  if (!embedded()) { schedule(); }

  // For the pages' own scripts (returns.js, templates.js, outbox-retry.js).
  window.aftercare = { api: api, config: config };
}());
