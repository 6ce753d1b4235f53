/* Collision detection (inbox/presence.py): the open ticket's heartbeat says "replying" while the
 * reply box holds a draft and "viewing" otherwise, at once when that changes; leaving the ticket
 * (another ticket, or closing the page) says "gone". Without JavaScript nothing beats: presence
 * is a hint, and a stale reply is still refused by the server. */
(function () {
  "use strict";

  function beatForm() {
    return document.querySelector("form[data-presence]");
  }

  function currentState() {
    var text = document.querySelector("[data-composer-text]");
    var mode = document.querySelector("[data-composer-mode]");
    var noting = mode && mode.value === "note";
    return text && !noting && text.value.trim() ? "replying" : "viewing";
  }

  var last = null;
  var lastTicket = null;
  var lastUrl = null;
  var lastToken = null;

  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.hasAttribute("data-presence")) {
      last = currentState();
      event.detail.parameters.state = last;
    }
  });

  document.addEventListener("input", function (event) {
    if (!event.target.matches || !event.target.matches("[data-composer-text]")) {
      return;
    }
    var form = beatForm();
    if (form && window.htmx && currentState() !== last) {
      window.htmx.trigger(form, "presence-now");
    }
  });

  function gone(url, token) {
    if (!url || !navigator.sendBeacon) {
      return;
    }
    var data = new FormData();
    data.append("state", "gone");
    data.append("csrfmiddlewaretoken", token || "");
    navigator.sendBeacon(url, data);
  }

  function remember() {
    var form = beatForm();
    var pane = document.getElementById("thread-pane");
    var ticket = pane ? pane.getAttribute("data-ticket") : null;
    if (lastTicket && ticket !== lastTicket) {
      gone(lastUrl, lastToken); // another ticket is open now
    }
    lastTicket = ticket;
    lastUrl = form ? form.getAttribute("action") : null;
    var token = form ? form.querySelector("[name=csrfmiddlewaretoken]") : null;
    lastToken = token ? token.value : null;
  }

  document.addEventListener("DOMContentLoaded", remember);
  document.addEventListener("htmx:afterSettle", remember);
  window.addEventListener("pagehide", function () {
    gone(lastUrl, lastToken);
  });
})();
