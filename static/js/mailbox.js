/* The mailbox: composer (counter, tabs, growth, Insert, the snippet picker, Ctrl/Cmd+Enter),
 * keeping the agent's place when polls bring new messages, one pane at a time on narrow screens
 * and the drawers (folders, workbench), and the mailbox keyboard shortcuts.
 * Everything here is an enhancement: the pages work as plain forms and links without it. */
(function () {
  "use strict";

  var NEAR = 0.9; // the counter turns amber past 90 % of the limit, red past the limit

  if (window.htmx) {
    // A 400 answer carries the composer with its errors and the draft, a 409 (new messages
    // since the thread was shown, inbox/presence.py) the thread as it is now and the draft:
    // swap them in.
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "400", swap: true, error: false },
      { code: "409", swap: true, error: false },
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
          : "Write a reply… (type / for snippets)";
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
  //
  // The picker is a popover over the composer: a search box over the snippets (role=combobox /
  // listbox). "/" or "#" typed at the start of the composer opens it with what follows as the
  // search, the focus staying in the composer; the Snippets button opens it with the focus in its
  // search box. Arrows move, Enter inserts, Esc closes. A snippet about an order uses the linked
  // order; when the buyer has several orders and none is linked, the server answers with the
  // question and the orders, shown as a second list to pick from the same way.

  var picker = {
    step: "snippets", // or "orders"
    snippet: null, // the chosen snippet's id while asking for its order
    fromComposer: false, // opened by "/" in the composer: Enter replaces what was typed
  };

  function popover() {
    return $("#snippet-popover");
  }

  function snippetError(message) {
    var box = $("#snippet-error");
    if (box) {
      box.textContent = message || "";
      box.hidden = !message;
    }
  }

  function activeList() {
    return picker.step === "orders" ? $("#snippet-order-options") : $("#snippet-options");
  }

  function visibleOptions() {
    var list = activeList();
    return list ? $all("[role=option]", list).filter(function (option) {
      return !option.hidden;
    }) : [];
  }

  function highlight(option) {
    var list = activeList();
    if (!list) {
      return;
    }
    $all("[role=option]", list).forEach(function (candidate) {
      candidate.setAttribute("aria-selected", candidate === option ? "true" : "false");
    });
    var search = $("#snippet-search");
    if (search && picker.step === "snippets") {
      search.setAttribute("aria-activedescendant", option ? option.id : "");
    }
    if (option) {
      option.scrollIntoView({ block: "nearest" });
    }
  }

  function highlighted() {
    var list = activeList();
    return list ? $('[role=option][aria-selected="true"]', list) : null;
  }

  function filterSnippets(query) {
    var words = (query || "").toLowerCase().split(/\s+/).filter(Boolean);
    var matches = [];
    $all("#snippet-options [role=option]").forEach(function (option) {
      var shortcut = option.getAttribute("data-shortcut") || "";
      var haystack = shortcut + " " + (option.getAttribute("data-title") || "");
      var match = words.every(function (word) {
        return haystack.indexOf(word) !== -1;
      });
      option.hidden = !match;
      if (match) {
        matches.push(option);
      }
    });
    var none = $("[data-snippet-none]");
    if (none) {
      none.hidden = matches.length > 0;
    }
    // A shortcut that starts with what was typed comes first ("/tra" picks "tracking").
    var best = matches.find(function (option) {
      return words.length && (option.getAttribute("data-shortcut") || "").indexOf(words[0]) === 0;
    });
    highlight(best || matches[0] || null);
  }

  function openPicker(fromComposer) {
    var box = popover();
    if (!box) {
      return;
    }
    picker.step = "snippets";
    picker.snippet = null;
    picker.fromComposer = fromComposer;
    box.hidden = false;
    $("[data-snippet-orders]").hidden = true;
    $("#snippet-options").hidden = false;
    $(".snippet-search", box).hidden = false;
    snippetError("");
    var button = $("[data-snippet-open]");
    if (button) {
      button.setAttribute("aria-expanded", "true");
    }
    if (fromComposer) {
      filterSnippets(typedShortcut() || "");
    } else {
      var search = $("#snippet-search");
      search.value = "";
      filterSnippets("");
      search.focus();
    }
  }

  function closePicker(returnFocus) {
    var box = popover();
    if (!box || box.hidden) {
      return;
    }
    box.hidden = true;
    var button = $("[data-snippet-open]");
    if (button) {
      button.setAttribute("aria-expanded", "false");
    }
    if (returnFocus && composerText()) {
      composerText().focus();
    }
  }

  function pickerOpen() {
    var box = popover();
    return Boolean(box && !box.hidden);
  }

  function askForOrder(question, orders) {
    picker.step = "orders";
    var list = $("#snippet-order-options");
    list.textContent = "";
    orders.forEach(function (order) {
      var option = document.createElement("li");
      option.className = "picker-option";
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.id = "snippet-order-" + order.id;
      option.setAttribute("data-order", order.id);
      var title = document.createElement("span");
      title.className = "picker-title order-id";
      title.textContent = order.external_id;
      var label = document.createElement("span");
      label.className = "picker-preview";
      label.textContent = order.label;
      option.appendChild(title);
      option.appendChild(label);
      list.appendChild(option);
    });
    $("#snippet-order-question").textContent = question;
    $("#snippet-options").hidden = true;
    $(".snippet-search", popover()).hidden = true;
    $("[data-snippet-none]").hidden = true;
    $("[data-snippet-orders]").hidden = false;
    highlight(list.querySelector("[role=option]"));
    list.setAttribute("tabindex", "-1");
    if (!picker.fromComposer) {
      list.focus();
    }
  }

  function insertSnippet(snippetId, orderId) {
    var box = popover();
    var params = new URLSearchParams({ snippet: snippetId });
    if (orderId) {
      params.set("order", orderId);
    }
    // The product and coupon picked in the workbench tabs (static/js/workbench.js).
    ["product", "coupon"].forEach(function (field) {
      var picked = document.getElementById("snippet-" + field);
      if (picked && picked.value) {
        params.set(field, picked.value);
      }
    });
    fetch(box.getAttribute("data-snippet-url") + "?" + params.toString(), {
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
        if (result.body.orders) {
          picker.snippet = snippetId;
          askForOrder(result.body.question, result.body.orders);
          return;
        }
        snippetError("");
        var replace = picker.fromComposer && typedShortcut() !== null;
        closePicker(false);
        insertText(result.body.text, replace);
      })
      .catch(function () {
        snippetError("The snippet could not be loaded. Check your connection and try again.");
      });
  }

  function choose(option) {
    if (!option) {
      return;
    }
    if (picker.step === "orders") {
      insertSnippet(picker.snippet, option.getAttribute("data-order"));
    } else {
      insertSnippet(option.getAttribute("data-snippet"), null);
    }
  }

  function moveHighlight(step) {
    var options = visibleOptions();
    if (!options.length) {
      return;
    }
    var index = options.indexOf(highlighted());
    var next = index === -1 ? 0 : (index + step + options.length) % options.length;
    highlight(options[next]);
  }

  /* Keys while the picker is open, from the composer or from the picker's own fields. */
  function pickerKeydown(event) {
    if (!pickerOpen()) {
      return false;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      moveHighlight(event.key === "ArrowDown" ? 1 : -1);
      return true;
    }
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      choose(highlighted());
      return true;
    }
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closePicker(true);
      return true;
    }
    return false;
  }

  /* "/" or "#" typed at the start of the composer, and what follows: the search. */
  function typedShortcut() {
    var text = composerText();
    var match = text && /^[\/#]([\w-]*)$/.exec(text.value);
    return match ? match[1] : null;
  }

  function onComposerInput() {
    updateCounter();
    growComposer();
    // The server's remark was about the text as it was sent; once edited it no longer applies.
    var stale = $("#composer-text-errors");
    if (stale) {
      stale.remove();
      composerText().removeAttribute("aria-invalid");
      composerText().setAttribute("aria-describedby", "char-count");
    }
    if (!popover()) {
      return;
    }
    var typed = typedShortcut();
    if (typed === null) {
      if (picker.fromComposer) {
        closePicker(false);
      }
      return;
    }
    if (!pickerOpen()) {
      openPicker(true);
    } else if (picker.step === "snippets") {
      filterSnippets(typed);
    }
  }

  /* Browsers without `field-sizing: content` get the same growth from here. */
  var sizesItself = window.CSS && CSS.supports && CSS.supports("field-sizing", "content");

  function growComposer() {
    var text = composerText();
    if (!text || sizesItself) {
      return;
    }
    text.style.height = "auto";
    text.style.height = text.scrollHeight + 2 + "px";
  }

  // --- Keeping the agent's place ----------------------------------------------------------------

  function threadScroller() {
    return $("#thread-scroll");
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
  var fromBottom = null; // "Show earlier": the thread stays where the agent was reading
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "thread-earlier") {
      var reading = threadScroller();
      fromBottom = reading ? reading.scrollHeight - reading.scrollTop : null;
    }
    if (target && target.id === "thread-messages") {
      var scroller = threadScroller();
      stickToEnd = scroller ? atBottom(scroller) : false;
    }
    if (target && target.id === "ticket-rows") {
      var active = document.activeElement;
      focusedRow = active && active.hasAttribute("data-ticket-row") ? active.id : null;
    }
  });

  /* The open ticket's row is highlighted, and never shows an unread dot: the agent is reading
   * it (the ticket's own poll marks its new messages read a moment later). */
  function markSelectedRow() {
    var pane = $("#thread-pane");
    var current = pane ? pane.getAttribute("data-ticket") : null;
    $all("[data-ticket-row]").forEach(function (row) {
      if (current && row.id === "ticket-" + current) {
        row.setAttribute("aria-current", "true");
        markRead(row);
      } else {
        row.removeAttribute("aria-current");
      }
    });
  }

  function markRead(row) {
    row.classList.remove("is-unread");
    var dot = row.querySelector(".row-dot");
    if (dot && dot.firstChild) {
      dot.textContent = "";
    }
  }

  // --- One pane at a time (narrow screens), drawers ---------------------------------------------

  function mailbox() {
    return $("#mailbox");
  }

  function showView(view) {
    var box = mailbox();
    if (box) {
      box.setAttribute("data-view", view);
    }
  }

  var drawerOpener = null;

  function openDrawer(id, opener) {
    var box = mailbox();
    var drawer = document.getElementById(id);
    if (!box || !drawer) {
      return;
    }
    closeDrawers(false);
    box.classList.add(id === "sidebar" ? "sidebar-open" : "rail-open");
    drawerOpener = opener || null;
    var scrim = $(".drawer-scrim", box);
    if (scrim) {
      scrim.hidden = false;
    }
    $all('[data-drawer="' + id + '"]').forEach(function (toggle) {
      toggle.setAttribute("aria-expanded", "true");
    });
    // Focus moves into the drawer once it is visible (its transition starts from hidden).
    window.setTimeout(function () {
      var first = drawer.querySelector('[aria-selected="true"], a, button, input');
      if (first) {
        first.focus();
      }
    }, 30);
  }

  function drawerOpen() {
    var box = mailbox();
    return Boolean(box && (box.classList.contains("sidebar-open") || box.classList.contains("rail-open")));
  }

  function closeDrawers(returnFocus) {
    var box = mailbox();
    if (!box) {
      return;
    }
    var wasOpen = drawerOpen();
    box.classList.remove("sidebar-open", "rail-open");
    var scrim = $(".drawer-scrim", box);
    if (scrim) {
      scrim.hidden = true;
    }
    $all("[data-drawer]").forEach(function (toggle) {
      toggle.setAttribute("aria-expanded", "false");
    });
    if (wasOpen && returnFocus && drawerOpener && document.contains(drawerOpener)) {
      drawerOpener.focus();
    }
    drawerOpener = null;
  }

  // --- Start-up and swaps -----------------------------------------------------------------------

  function enhance(root) {
    $all("[data-insert][hidden], [data-snippet-open][hidden]", root).forEach(function (button) {
      button.hidden = false;
    });
    $all("[data-js-hide]", root).forEach(function (button) {
      button.hidden = true;
    });
    $all("[data-drawer]", root).forEach(function (toggle) {
      toggle.setAttribute("role", "button");
      toggle.setAttribute("aria-expanded", "false");
    });
    var mode = $("[data-composer-mode]", root);
    if (mode) {
      setMode(mode.value);
      updateCounter();
      growComposer();
    }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) {
      return;
    }
    if (target.id === "thread-pane") {
      scrollThreadToEnd();
      if ($("#thread-pane[data-ticket]")) {
        showView("ticket");
      }
    } else if (target.id === "thread-messages" && stickToEnd) {
      scrollThreadToEnd();
    }
    if (target.id === "thread-earlier") {
      // The page before arrived above: keep the entries in view where they were, and the
      // keyboard on the next "Show earlier" (or on the thread when there is no more).
      var scroller = threadScroller();
      if (scroller && fromBottom !== null) {
        scroller.scrollTop = scroller.scrollHeight - fromBottom;
      }
      fromBottom = null;
      var next = $("#thread-earlier a") || scroller;
      if (next) {
        next.focus({ preventScroll: true });
      }
    }
    if (target.id === "list-pane" || target.id === "thread-pane") {
      closeDrawers(false);
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
    if (!event.target.matches) {
      return;
    }
    if (event.target.matches("[data-composer-text]")) {
      onComposerInput();
    } else if (event.target.id === "snippet-search") {
      filterSnippets(event.target.value);
    }
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-attach]")) {
      var name = $("[data-attach-name]");
      if (name) {
        name.textContent = input.files && input.files.length ? input.files[0].name : "";
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.matches) {
      return;
    }
    if (target.matches("[data-composer-text], #snippet-search, #snippet-order-options")) {
      if (pickerKeydown(event)) {
        return;
      }
    }
    if (event.key === "Escape" && drawerOpen()) {
      closeDrawers(true);
    }
  });

  document.addEventListener("click", function (event) {
    var closest = function (selector) {
      return event.target.closest ? event.target.closest(selector) : null;
    };
    var tab = closest(".composer-tab");
    if (tab) {
      setMode(tab.getAttribute("data-tab"));
      composerText().focus();
      return;
    }
    var row = closest("[data-ticket-row]");
    if (row) {
      // Opening a ticket reads it: the row says so at once, the next list refresh confirms.
      markRead(row);
    }
    var insert = closest("[data-insert]");
    if (insert) {
      insertText(insert.getAttribute("data-insert"), false);
      closeDrawers(false);
    }
    var opener = closest("[data-snippet-open]");
    if (opener) {
      if (pickerOpen()) {
        closePicker(true);
      } else {
        openPicker(false);
      }
      return;
    }
    var option = closest("#snippet-popover [role=option]");
    if (option) {
      highlight(option);
      choose(option);
      return;
    }
    if (pickerOpen() && !closest("#snippet-popover") && !closest("[data-composer-text]")) {
      closePicker(false);
    }
    var toggle = closest("[data-drawer]");
    if (toggle) {
      event.preventDefault();
      var id = toggle.getAttribute("data-drawer");
      var box = mailbox();
      var open = box && box.classList.contains(id === "sidebar" ? "sidebar-open" : "rail-open");
      if (open) {
        closeDrawers(true);
      } else {
        openDrawer(id, toggle);
      }
      return;
    }
    if (closest("[data-drawer-close]")) {
      event.preventDefault();
      closeDrawers(true);
      return;
    }
    var back = closest("[data-back]");
    if (back && $("#ticket-rows")) {
      // The list is here already (narrow screens keep it beside the hidden thread): show it.
      event.preventDefault();
      showView("list");
      window.history.pushState({}, "", back.getAttribute("href"));
      var current = $('[data-ticket-row][aria-current="true"]');
      if (current) {
        current.focus({ preventScroll: true });
        current.scrollIntoView({ block: "nearest" });
      }
    }
  });

  window.addEventListener("popstate", function () {
    // Back from the list to a ticket (or the other way) on narrow screens.
    var pane = $("#thread-pane[data-ticket]");
    if (pane && window.location.pathname === pane.getAttribute("data-ticket-url")) {
      showView("ticket");
    } else if (/^\/mailbox\/$/.test(window.location.pathname)) {
      showView("list");
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
      var back = $("[data-back]");
      if (back && list[0].offsetParent === null) {
        // A narrow screen showing the ticket alone: the first press shows the list again, at
        // the open ticket's row (as the back button does).
        back.click();
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
      keys: "w",
      label: "Show or hide the workbench (orders) on narrower screens",
      group: group,
      handler: function () {
        var toggle = $('[data-drawer="sidebar"]');
        if (toggle && toggle.offsetParent !== null) {
          toggle.click();
        }
      },
    });
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
