// Triage's snippet suggestions (templates/triage/_suggestions.html): a click, or Alt+1…3, puts
// the suggestion's text into the composer for the agent to edit and send. Nothing is sent here.
(function () {
  "use strict";
  function insert(button) {
    var text = document.querySelector("[data-composer-text]");
    if (!text || !button) return;
    text.value = button.getAttribute("data-text") || "";
    text.dispatchEvent(new Event("input", { bubbles: true }));
    text.focus();
    text.setSelectionRange(text.value.length, text.value.length);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-suggestion]");
    if (button) {
      event.preventDefault();
      insert(button);
    }
  });
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    var number = event.key >= "1" && event.key <= "3" ? event.key : null;
    if (!number && event.code && /^Digit[1-3]$/.test(event.code)) number = event.code.slice(5);
    if (!number) return;
    var button = document.querySelector('#triage-suggestions [data-suggestion="' + number + '"]');
    if (button) {
      event.preventDefault();
      insert(button);
    }
  });
})();
