// Aftercare admin, outbox: a failed message's Retry button makes it due
// again now (POST /api/admin/notifications/<id>/retry).
(function () {
  "use strict";
  var labels = JSON.parse(document.getElementById("outbox-labels").textContent);
  var line = document.querySelector("[data-retry-status]");

  function say(text, kind) {
    line.textContent = text;
    line.className = "status" + (kind ? " " + kind : "");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-retry]");
    if (!button) { return; }
    button.disabled = true;
    say(labels.retrying);
    window.aftercare.api("POST", "/notifications/" + button.dataset.retry + "/retry?locale=" +
                         encodeURIComponent(window.aftercare.config.locale)).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      if (result.status !== 200) {
        button.disabled = false;
        say(labels.failed.replace("{error}", result.body.error), "bad");
        return;
      }
      var badge = button.closest("td").querySelector(".badge");
      badge.textContent = labels.pending;
      badge.className = "badge badge-pending";
      var cell = button.closest("td");
      button.remove();
      cell.querySelector(".sub").textContent = cell.querySelector(".sub").textContent.replace(/\d+$/, "0");
      say(labels.queued, "ok");
      line.focus();  // the button that had focus is gone
    }).catch(function () {
      button.disabled = false;
      say(window.aftercare.config.messages.expired, "bad");
    });
  });
}());
