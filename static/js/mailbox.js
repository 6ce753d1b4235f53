/* The mailbox: composer (counter, tabs, Insert, snippets, Ctrl/Cmd+Enter), keeping the agent's
 * place when polls bring new messages, and the mailbox keyboard shortcuts.
 * Everything here is an enhancement: the pages work as plain forms and links without it. */
(function () {
  "use strict";

  var NEAR = 0.9; // the counter turns amber past 90 % of the limit, red past the limit

  if (window.htmx) {
    // A 400 answer carries the composer with its errors and the draft: swap it in.
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "400", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false },
    ];
  }

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  function $all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  // --- Composer ---------------------------------------------------------------------------------

  function composerText() {
    return $("[data-composer-text]");
  }

  function updateCounter() {
    var text = composerText();
    var counter = $("#char-count");
    var composer = $("#composer");
    if (!text || !counter || !composer) {
      return;
    }
    var max = parseInt(composer.getAttribute("data-max-chars"), 10) || 2000;
    var length = text.value.replace(/\r\n/g, "\n").length;
    counter.textContent = length.toLocaleString() + " / " + max.toLocaleString();
    counter.classList.toggle("is-over", length > max);
    counter.classList.toggle("is-near", length <= max && length >= Math.floor(max * NEAR));
  }

  function setMode(mode) {
    var input = $("[data-composer-mode]");
    if (!input) {
      return;
    }
    input.value = mode;
    $all(".composer-tab").forEach(function (tab) {
      tab.setAttribute("aria-selected", tab.getAttribute("data-tab") === mode ? "true" : "false");
    });
    $all("[data-reply-only]").forEach(function (el) {
      el.hidden = mode !== "reply";
    });
    $all("[data-note-only]").forEach(function (el) {
      el.hidden = mode !== "note";
    });
    var composer = $("#composer");
    if (composer) {
      composer.classList.toggle("is-note", mode === "note");
    }
    var text = composerText();
    if (text) {
      text.placeholder =
        mode === "note"
          ? "Internal note: only your team sees it"
          : "Write a reply… (type / or # for snippets)";
    }
  }

  function insertText(value, replaceAll) {
    var text = composerText();
    if (!text) {
      return;
    }
    if (replaceAll) {
      text.value = value;
    } else {
      var start = text.selectionStart || 0;
      var end = text.selectionEnd || 0;
      var before = text.value.slice(0, start);
      var after = text.value.slice(end);
      var spacer = before && !/\s$/.test(before) ? " " : "";
      text.value = before + spacer + value + after;
      var caret = (before + spacer + value).length;
      text.setSelectionRange(caret, caret);
    }
    text.focus();
    updateCounter();
  }

  function send() {
    var mode = $("[data-composer-mode]");
    var button = mode && mode.value === "note" ? $("[data-add-note]") : $("[data-send]");
    if (button) {
      button.click();
    }
  }

  // --- Snippets ---------------------------------------------------------------------------------

  function snippetError(message) {
    var box = $("#snippet-error");
    if (box) {
      box.textContent = message || "";
      box.hidden = !message;
    }
  }

  function insertSnippet(replaceTyped) {
    var picker = $("#snippet-picker");
    if (!picker) {
      return;
    }
    var params = new URLSearchParams(new FormData(picker));
    fetch(picker.getAttribute("data-snippet-url") + "?" + params.toString(), {
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          snippetError(result.body.error || "The snippet could not be used.");
          return;
        }
        snippetError("");
        picker.classList.remove("is-open");
        insertText(result.body.text, replaceTyped);
      })
      .catch(function () {
        snippetError("The snippet could not be loaded. Check your connection and try again.");
      });
  }

  /* "/" or "#" typed at the start of the composer opens the picker; what follows picks the
   * snippet by its shortcut; Enter inserts it in place of what was typed, Escape closes. */
  function typedShortcut() {
    var text = composerText();
    var match = text && /^[\/#]([\w-]*)$/.exec(text.value);
    return match ? match[1] : null;
  }

  function onComposerInput() {
    updateCounter();
    // The server's remark was about the text as it was sent; once edited it no longer applies.
    var stale = $("#composer-text-errors");
    if (stale) {
      stale.remove();
      composerText().removeAttribute("aria-invalid");
      composerText().removeAttribute("aria-describedby");
    }
    var picker = $("#snippet-picker");
    if (!picker) {
      return;
    }
    var typed = typedShortcut();
    picker.classList.toggle("is-open", typed !== null);
    if (typed) {
      var option = $all("#snippet-choice option").find(function (candidate) {
        return (candidate.getAttribute("data-shortcut") || "").indexOf(typed) === 0;
      });
      if (option) {
        option.selected = true;
      }
    }
  }

  function onComposerKeydown(event) {
    if (typedShortcut() === null) {
      return;
    }
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      insertSnippet(true);
    } else if (event.key === "Escape") {
      $("#snippet-picker").classList.remove("is-open");
    }
  }

  // --- Keeping the agent's place ----------------------------------------------------------------

  function threadScroller() {
    return $("#thread-pane");
  }

  function atBottom(element) {
    return element.scrollHeight - element.scrollTop - element.clientHeight < 40;
  }

  function scrollThreadToEnd() {
    var scroller = threadScroller();
    if (scroller) {
      scroller.scrollTop = scroller.scrollHeight;
    }
  }

  var stickToEnd = false;
  var focusedRow = null; // a row picked with j/k keeps the focus when the list refreshes
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "thread-messages") {
      var scroller = threadScroller();
      stickToEnd = scroller ? atBottom(scroller) : false;
    }
    if (target && target.id === "ticket-rows") {
      var active = document.activeElement;
      focusedRow = active && active.hasAttribute("data-ticket-row") ? active.id : null;
    }
  });

  function markSelectedRow() {
    var pane = $("#thread-pane");
    var current = pane ? pane.getAttribute("data-ticket") : null;
    $all("[data-ticket-row]").forEach(function (row) {
      if (current && row.id === "ticket-" + current) {
        row.setAttribute("aria-current", "true");
      } else {
        row.removeAttribute("aria-current");
      }
    });
  }

  function enhance(root) {
    $all("[data-insert][hidden]", root).forEach(function (button) {
      button.hidden = false;
    });
    $all("[data-js-hide]", root).forEach(function (button) {
      button.hidden = true;
    });
    var mode = $("[data-composer-mode]", root);
    if (mode) {
      setMode(mode.value);
      updateCounter();
    }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) {
      return;
    }
    if (target.id === "thread-pane") {
      scrollThreadToEnd();
    } else if (target.id === "thread-messages" && stickToEnd) {
      scrollThreadToEnd();
    }
    markSelectedRow();
    if (focusedRow && document.getElementById(focusedRow)) {
      document.getElementById(focusedRow).focus({ preventScroll: true });
      focusedRow = null;
    }
    if (target.hasAttribute("data-lazy-list")) {
      // The list pane of a ticket opened by URL has just arrived: show the open ticket's row.
      var current = $('[data-ticket-row][aria-current="true"]');
      if (current) {
        current.scrollIntoView({ block: "nearest" });
      }
    }
  });

  document.addEventListener("htmx:load", function (event) {
    enhance(event.detail.elt);
  });

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-composer-text]")) {
      onComposerInput();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.target.matches && event.target.matches("[data-composer-text]")) {
      onComposerKeydown(event);
    }
  });

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-autosubmit]") && select.form) {
      select.form.requestSubmit();
    }
  });

  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest(".composer-tab");
    if (tab) {
      setMode(tab.getAttribute("data-tab"));
      composerText().focus();
      return;
    }
    var row = event.target.closest && event.target.closest("[data-ticket-row]");
    if (row) {
      // Opening a ticket reads it: the row says so at once, the next list refresh confirms.
      row.classList.remove("is-unread");
      var dot = row.querySelector(".row-dot");
      if (dot) {
        dot.textContent = "";
      }
    }
    var insert = event.target.closest && event.target.closest("[data-insert]");
    if (insert) {
      insertText(insert.getAttribute("data-insert"), false);
    }
  });

  document.addEventListener("submit", function (event) {
    if (event.target.id === "snippet-picker") {
      event.preventDefault();
      insertSnippet(typedShortcut() !== null);
    }
  });

  // --- Keyboard ---------------------------------------------------------------------------------

  function rows() {
    return $all("[data-ticket-row]");
  }

  function selectedIndex(list) {
    var focused = list.indexOf(document.activeElement);
    if (focused !== -1) {
      return focused;
    }
    return list.findIndex(function (row) {
      return row.getAttribute("aria-current") === "true";
    });
  }

  function move(step) {
    return function () {
      var list = rows();
      if (!list.length) {
        return;
      }
      var index = selectedIndex(list);
      var next = index === -1 ? 0 : Math.min(Math.max(index + step, 0), list.length - 1);
      list[next].focus();
      list[next].scrollIntoView({ block: "nearest" });
    };
  }

  function click(selector) {
    return function () {
      var element = $(selector);
      if (element) {
        element.click();
      }
    };
  }

  function focusComposer(mode) {
    return function () {
      if (composerText()) {
        setMode(mode);
        composerText().focus();
      }
    };
  }

  var shortcuts = window.Sellerdesk && window.Sellerdesk.shortcuts;
  if (shortcuts) {
    var group = "Mailbox";
    shortcuts.register({ keys: "j", label: "Next conversation", group: group, handler: move(1) });
    shortcuts.register({ keys: "k", label: "Previous conversation", group: group, handler: move(-1) });
    shortcuts.register({
      keys: "Enter",
      label: "Open the selected conversation",
      group: group,
      handler: function (event) {
        // Enter on a focused link or button keeps doing what it always does.
        var target = event.target;
        var onRow = target && target.hasAttribute && target.hasAttribute("data-ticket-row");
        if (target && target !== document.body && !onRow) {
          if (target.matches("a, button, summary, input, [role=tab]")) {
            target.click();
          }
          return;
        }
        var list = rows();
        var index = selectedIndex(list);
        if (index !== -1) {
          list[index].click();
        }
      },
    });
    shortcuts.register({ keys: "r", label: "Reply", group: group, handler: focusComposer("reply") });
    shortcuts.register({ keys: "n", label: "Internal note", group: group, handler: focusComposer("note") });
    shortcuts.register({ keys: "e", label: "Solve", group: group, handler: click('[data-action="solve"]') });
    shortcuts.register({ keys: "p", label: "Set pending", group: group, handler: click('[data-action="pending"]') });
    shortcuts.register({ keys: "a", label: "Assign to me", group: group, handler: click('[data-action="assign-me"]') });
    shortcuts.register({
      keys: "Mod+Enter",
      label: "Send the reply (or save the note)",
      group: group,
      allowInFields: true,
      handler: send,
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    scrollThreadToEnd();
    markSelectedRow();
  });
})();
