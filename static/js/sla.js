/* SLA badges count down without a request: every 30 s each [data-sla-due] badge gets its words
   ("due in 1 h 20 m", "overdue 3 h") and colour (due soon / overdue) again, as sla/display.py
   draws them. The server redraws them whenever the list or the ticket refreshes. */
(function () {
  "use strict";

  function words(seconds) {
    var minutes = Math.max(Math.floor(seconds / 60), 1);
    var days = Math.floor(minutes / 1440);
    minutes -= days * 1440;
    var hours = Math.floor(minutes / 60);
    minutes -= hours * 60;
    if (days) {
      return hours ? days + " d " + hours + " h" : days + " d";
    }
    if (hours) {
      return minutes ? hours + " h " + minutes + " m" : hours + " h";
    }
    return minutes + " m";
  }

  function refresh(root) {
    var now = Date.now();
    var badges = (root || document).querySelectorAll("[data-sla-due]");
    for (var i = 0; i < badges.length; i++) {
      var badge = badges[i];
      var due = Date.parse(badge.getAttribute("data-sla-due"));
      if (isNaN(due)) {
        continue;
      }
      var soon = parseInt(badge.getAttribute("data-sla-soon") || "3600", 10);
      var left = (due - now) / 1000;
      var text = left <= 0 ? "overdue " + words(-left) : "due in " + words(left);
      badge.classList.toggle("sla-overdue", left <= 0);
      badge.classList.toggle("sla-soon", left > 0 && left <= soon);
      badge.classList.toggle("sla-later", left > soon);
      // The clock's name for screen readers stays in front of the words.
      var last = badge.lastChild;
      if (last && last.nodeType === 3) {
        last.nodeValue = text;
      } else {
        badge.appendChild(document.createTextNode(text));
      }
    }
  }

  window.setInterval(refresh, 30000);
  document.addEventListener("htmx:load", function (event) {
    refresh(event.detail.elt);
  });
})();
