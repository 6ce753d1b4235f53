/* Escalation pages: keyboard moves through the list (j/k, Enter opens), "c" starts a new case,
 * filter and kind selects submit themselves, the printable page's Print button. Every page
 * works without it (the filter form keeps its button, the print dialog is Ctrl+P). */
(function () {
  "use strict";

  var shortcuts = window.Sellerdesk && window.Sellerdesk.shortcuts;

  // Selects that submit their form on change; their button is then not needed.
  document.querySelectorAll(".escalation-filters select, select[data-autosubmit]").forEach(
    function (select) {
      select.addEventListener("change", function () {
        if (select.form) {
          select.form.submit();
        }
      });
      if (select.form) {
        select.form.querySelectorAll("[data-js-hide]").forEach(function (button) {
          button.hidden = true;
        });
      }
    }
  );

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });

  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-escalation-row]"));
  var current = -1;

  function move(step) {
    if (!rows.length) {
      return;
    }
    if (current >= 0) {
      rows[current].classList.remove("is-current");
    }
    current = Math.max(0, Math.min(rows.length - 1, current + step));
    var row = rows[current];
    row.classList.add("is-current");
    var link = row.querySelector("a.escalation-link");
    if (link) {
      link.focus();
    }
  }

  if (shortcuts) {
    if (rows.length) {
      shortcuts.register({ keys: "j", label: "Next case", group: "Escalations", handler: function () { move(1); } });
      shortcuts.register({ keys: "k", label: "Previous case", group: "Escalations", handler: function () { move(-1); } });
    }
    var newCase = document.querySelector("[data-shortcut-new]");
    if (newCase) {
      shortcuts.register({
        keys: "c",
        label: "New escalation",
        group: "Escalations",
        handler: function () { newCase.click(); },
      });
    }
  }

  // A refused form: the list of problems takes the focus, so it is read out first.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();
