// Aftercare admin, dashboard: the breakdowns' tabs (WAI-ARIA tabs: arrow
// keys, Home and End move between them) and the "Followed up" button of a
// low answer (POST /api/admin/surveys/low-answers/<id>/follow-up).
(function () {
  "use strict";
  var labels = JSON.parse(document.getElementById("dashboard-labels").textContent);
  var locale = window.aftercare.config.locale;
  var when = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });

  // --- tabs ------------------------------------------------------------------

  document.querySelectorAll("[data-tabs]").forEach(function (list) {
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));

    function select(tab, focus) {
      tabs.forEach(function (other) {
        var on = other === tab;
        other.setAttribute("aria-selected", on ? "true" : "false");
        other.tabIndex = on ? 0 : -1;
        document.getElementById(other.getAttribute("aria-controls")).hidden = !on;
      });
      if (focus) { tab.focus(); }
    }

    list.addEventListener("click", function (event) {
      var tab = event.target.closest("[role=tab]");
      if (tab) { select(tab, false); }
    });
    list.addEventListener("keydown", function (event) {
      var index = tabs.indexOf(document.activeElement);
      if (index < 0) { return; }
      var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) { return; }
      event.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length], true);
    });
  });

  // --- "Followed up" ---------------------------------------------------------

  function followed(box, answer) {
    var who = labels.who[answer.followed_up_by] || answer.followed_up_by;
    var line = document.createElement("p");
    line.className = "done";
    line.setAttribute("data-followed", "");
    line.textContent = labels.followed.replace("{who}", who)
      .replace("{when}", when.format(new Date(answer.followed_up_at)));
    var button = box.querySelector("[data-follow-up]");
    box.replaceChild(line, button);
    return line.textContent;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-follow-up]");
    if (!button || button.disabled) { return; }
    var box = button.closest(".follow");
    var status = box.querySelector("[data-follow-status]");
    button.disabled = true;
    status.className = "status";
    status.textContent = labels.working;
    window.aftercare.api("POST", "/surveys/low-answers/" + encodeURIComponent(button.dataset.followUp) + "/follow-up")
      .then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      }).then(function (result) {
        if (result.status === 200 || result.status === 409) {
          // 409: someone marked it first; their mark is the one shown.
          status.className = "status ok";
          status.textContent = followed(box, result.status === 200 ? result.body : result.body.answer);
          return;
        }
        button.disabled = false;
        status.className = "status bad";
        status.textContent = labels.failed.replace("{error}", result.body.error || result.status);
      }).catch(function (error) {
        button.disabled = false;
        status.className = "status bad";
        status.textContent = labels.failed.replace("{error}", error.message);
      });
  });
}());
