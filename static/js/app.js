/* Sellerdesk: the little JavaScript the pages need. No framework; every page still works without it.
 *
 *  - CSRF: Django's token (from <meta name="csrf-token">) rides on every HTMX request.
 *  - Keyboard: a shortcut registry with a "?" help overlay. Shortcuts never fire while typing in a
 *    field. Pages add their own with Sellerdesk.shortcuts.register({...}).
 *  - Flash messages get a dismiss button.
 *  - <time datetime> elements show relative times ("3h ago"); the exact time (rendered by the server
 *    in the organisation's time zone) moves to the tooltip.
 *  - Small helpers: copy buttons ([data-copy]), confirmations (form[data-confirm]), <details> menus
 *    that close on outside click or Escape.
 */
(function () {
  "use strict";

  // --- CSRF for HTMX --------------------------------------------------------------------------

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // Polls marked data-poll-when-visible skip their turn while the tab is hidden (a trigger filter
  // such as "[document.visibilityState === 'visible']" would need eval, which the CSP forbids).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (
      document.visibilityState === "hidden" &&
      element &&
      element.hasAttribute("data-poll-when-visible")
    ) {
      event.preventDefault();
    }
  });

  // --- Keyboard shortcuts ---------------------------------------------------------------------

  var registry = []; // {keys: ["g", "m"], label, group, handler, allowInFields}
  var pending = null; // first key of a two-key sequence ("g" then "m")
  var pendingTimer = null;

  function isTypingTarget(element) {
    if (!element || element === document.body) {
      return false;
    }
    if (element.isContentEditable) {
      return true;
    }
    var tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") {
      return true;
    }
    if (tag === "INPUT") {
      var type = (element.getAttribute("type") || "text").toLowerCase();
      return ["button", "checkbox", "radio", "submit", "reset", "image", "file", "range", "color"]
        .indexOf(type) === -1;
    }
    return false;
  }

  /* The name of a key press as shortcuts spell it: "j", "?", "Enter", "Mod+Enter" (Ctrl or Cmd). */
  function keyName(event) {
    var key = event.key; // "?" and capitals arrive as typed, so "?" needs no Shift+ prefix
    if (event.ctrlKey || event.metaKey) {
      return "Mod+" + key;
    }
    if (event.altKey) {
      return "Alt+" + key;
    }
    return key;
  }

  /**
   * Register a shortcut.
   *   keys:          "j", "?", "Mod+Enter", or a two-key sequence "g m"
   *   label:         what it does, shown in the help overlay
   *   group:         heading in the help overlay (default "General")
   *   handler:       function (event) {...}
   *   allowInFields: fire even while typing (only for chords like Mod+Enter)
   * Returns a function that unregisters it (for HTMX partials that come and go).
   */
  function register(options) {
    var entry = {
      keys: options.keys.split(" "),
      label: options.label,
      group: options.group || "General",
      handler: options.handler,
      allowInFields: Boolean(options.allowInFields),
    };
    registry.push(entry);
    return function unregister() {
      var index = registry.indexOf(entry);
      if (index !== -1) {
        registry.splice(index, 1);
      }
    };
  }

  function clearPending() {
    pending = null;
    if (pendingTimer) {
      clearTimeout(pendingTimer);
      pendingTimer = null;
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) {
      return;
    }
    var name = keyName(event);
    if (name === "Shift" || name === "Control" || name === "Meta" || name === "Alt") {
      return;
    }
    var typing = isTypingTarget(event.target);
    var candidates = registry.filter(function (entry) {
      return !typing || entry.allowInFields;
    });

    if (pending !== null) {
      var first = pending;
      clearPending();
      var sequence = candidates.find(function (entry) {
        return entry.keys.length === 2 && entry.keys[0] === first && entry.keys[1] === name;
      });
      if (sequence) {
        event.preventDefault();
        sequence.handler(event);
        return;
      }
    }

    var single = candidates.find(function (entry) {
      return entry.keys.length === 1 && entry.keys[0] === name;
    });
    if (single) {
      event.preventDefault();
      single.handler(event);
      return;
    }
    var starts = candidates.some(function (entry) {
      return entry.keys.length === 2 && entry.keys[0] === name;
    });
    if (starts) {
      pending = name;
      pendingTimer = setTimeout(clearPending, 1500);
    }
  });

  // --- Help overlay ("?") ---------------------------------------------------------------------

  var helpDialog = null;

  function renderKeys(keys) {
    var fragment = document.createDocumentFragment();
    keys.forEach(function (key, index) {
      if (index > 0) {
        fragment.appendChild(document.createTextNode(" then "));
      }
      key.split("+").forEach(function (part, partIndex) {
        if (partIndex > 0) {
          fragment.appendChild(document.createTextNode(" + "));
        }
        var kbd = document.createElement("kbd");
        kbd.textContent = part === "Mod" ? (isMac() ? "⌘" : "Ctrl") : part;
        fragment.appendChild(kbd);
      });
    });
    return fragment;
  }

  function isMac() {
    return /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
  }

  function buildHelpDialog() {
    var dialog = document.createElement("dialog");
    dialog.className = "dialog";
    dialog.id = "shortcut-help";
    dialog.setAttribute("aria-labelledby", "shortcut-help-title");
    dialog.innerHTML =
      '<div class="dialog-header"><h2 id="shortcut-help-title">Keyboard shortcuts</h2>' +
      '<button type="button" class="dialog-close" aria-label="Close">&times;</button></div>' +
      '<div class="dialog-body"></div>';
    dialog.querySelector(".dialog-close").addEventListener("click", function () {
      dialog.close();
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) {
        dialog.close(); // a click on the backdrop
      }
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  function showHelp() {
    if (!helpDialog) {
      helpDialog = buildHelpDialog();
    }
    var body = helpDialog.querySelector(".dialog-body");
    body.textContent = "";
    var groups = {};
    var order = [];
    registry.forEach(function (entry) {
      if (!groups[entry.group]) {
        groups[entry.group] = [];
        order.push(entry.group);
      }
      groups[entry.group].push(entry);
    });
    order.forEach(function (group) {
      var section = document.createElement("section");
      section.className = "shortcut-group";
      var heading = document.createElement("h3");
      heading.textContent = group;
      var list = document.createElement("dl");
      list.className = "shortcut-list";
      groups[group].forEach(function (entry) {
        var term = document.createElement("dt");
        term.textContent = entry.label;
        var keys = document.createElement("dd");
        keys.appendChild(renderKeys(entry.keys));
        list.appendChild(term);
        list.appendChild(keys);
      });
      section.appendChild(heading);
      section.appendChild(list);
      body.appendChild(section);
    });
    var note = document.createElement("p");
    note.className = "kbd-hint";
    note.textContent =
      "Shortcuts are paused while you type in a field. Press Esc to leave a field (in a search box, Esc first clears the search).";
    body.appendChild(note);
    if (!helpDialog.open) {
      helpDialog.showModal();
    }
  }

  function go(selector) {
    return function () {
      var link = document.querySelector(selector);
      if (link) {
        link.click();
      }
    };
  }

  register({ keys: "?", label: "Show keyboard shortcuts", handler: showHelp });
  register({
    keys: "/",
    label: "Jump to the search box",
    handler: function () {
      var search = document.querySelector("[data-search]");
      if (search) {
        search.focus();
        if (search.select) {
          search.select();
        }
      }
    },
  });
  register({ keys: "g m", label: "Go to Mailbox", group: "Navigation", handler: go('[data-nav="mailbox"]') });
  register({ keys: "g o", label: "Go to Orders", group: "Navigation", handler: go('[data-nav="orders"]') });
  register({ keys: "g s", label: "Go to Stores", group: "Navigation", handler: go('[data-nav="stores"]') });
  register({ keys: "g ,", label: "Go to Settings", group: "Navigation", handler: go('[data-nav="settings"]') });

  // Esc leaves a field (so shortcuts work again) and closes open menus. In a search box that
  // holds text it first clears the search: the box is emptied and its form sent, so the list
  // shows the folder again (the browser's own Esc would empty the box and leave the rows of
  // the search); the next Esc leaves the box.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var openMenus = document.querySelectorAll("details.menu[open]");
    if (openMenus.length) {
      openMenus.forEach(function (menu) {
        menu.open = false;
        menu.querySelector("summary").focus();
      });
      return;
    }
    var box = document.activeElement;
    if (box && box.matches("[data-search]") && box.value !== "" && !document.querySelector("dialog[open]")) {
      event.preventDefault();
      box.value = "";
      if (box.form) {
        box.form.requestSubmit();
      }
      return;
    }
    if (isTypingTarget(document.activeElement) && !document.querySelector("dialog[open]")) {
      document.activeElement.blur();
    }
  });

  // --- Menus (<details class="menu">) ---------------------------------------------------------

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.open = false;
      }
    });
  });

  // --- Flash messages -------------------------------------------------------------------------

  function enhanceMessages(root) {
    root.querySelectorAll(".message:not([data-enhanced])").forEach(function (message) {
      message.setAttribute("data-enhanced", "");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "message-dismiss";
      button.setAttribute("aria-label", "Dismiss message");
      button.innerHTML = "&times;";
      button.addEventListener("click", function () {
        var list = message.parentElement;
        message.remove();
        if (list && list.classList.contains("messages") && !list.children.length) {
          list.remove();
        }
      });
      message.appendChild(button);
    });
  }

  // --- Relative times -------------------------------------------------------------------------

  var MINUTE = 60 * 1000;
  var HOUR = 60 * MINUTE;
  var DAY = 24 * HOUR;
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  /* The day a <time datetime> names, as written: the server writes every time in the
   * organisation's zone with its offset ("2026-10-24T23:00:00-07:00"), so the date part is that
   * zone's day, whatever the browser's zone. [year, month 1-12, day] or null. */
  function writtenDay(iso) {
    var match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
  }

  /* The year it is now in the zone of `iso` (its offset), so "12 Sep" and "12 Sep 2025" are
   * decided in the organisation's zone too. */
  function yearThere(iso, now) {
    var match = /([+-])(\d{2}):(\d{2})$/.exec(iso || "");
    var offset = match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
    return new Date(now + offset * MINUTE).getUTCFullYear();
  }

  /* "just now", "4m ago", "3h ago", "2d ago", "in 6d"; older than a week: "12 Sep" (or
   * "12 Sep 2024"), the day in the organisation's zone, as the exact time in the tooltip says.
   * With short=true (dense lists): "now", "4m", "3h", "2d". */
  function relativeTime(date, now, short, iso) {
    var diff = now - date;
    var future = diff < 0;
    var abs = Math.abs(diff);
    var text;
    if (abs < MINUTE) {
      if (future) {
        return short ? "<1m" : "in under a minute";
      }
      return short ? "now" : "just now";
    }
    // Past times round down ("59m ago" until the hour is full); future ones to the nearest unit, so
    // a link valid for 7 days reads "in 7d", not "in 6d", a second after it was made.
    var count = future ? Math.round : Math.floor;
    if (count(abs / MINUTE) < 60) {
      text = count(abs / MINUTE) + "m";
    } else if (count(abs / HOUR) < 24) {
      text = count(abs / HOUR) + "h";
    } else if (abs < 7.5 * DAY) {
      text = count(abs / DAY) + "d";
    } else {
      var day = writtenDay(iso);
      if (!day) {
        day = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
      }
      var label = day[2] + " " + MONTHS[day[1] - 1];
      return day[0] === yearThere(iso, now) ? label : label + " " + day[0];
    }
    if (short) {
      return text;
    }
    return future ? "in " + text : text + " ago";
  }

  function updateTimes(root) {
    var now = Date.now();
    root.querySelectorAll("time[datetime]:not([data-absolute])").forEach(function (element) {
      var iso = element.getAttribute("datetime");
      var date = new Date(iso);
      if (isNaN(date.getTime())) {
        return;
      }
      if (!element.hasAttribute("data-exact")) {
        // The server's text is the exact time in the organisation's zone: keep it for the tooltip.
        var exact = element.getAttribute("title") || element.textContent.trim();
        element.setAttribute("data-exact", exact);
        element.setAttribute("title", exact);
      }
      element.textContent = relativeTime(
        date,
        now,
        element.getAttribute("data-relative") === "short",
        iso
      );
    });
  }

  // --- Copy buttons and confirmations ----------------------------------------------------------

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      area.remove();
      if (ok) {
        resolve();
      } else {
        reject(new Error("copy failed"));
      }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) {
      return;
    }
    var original = button.textContent;
    copyText(button.getAttribute("data-copy")).then(
      function () {
        button.textContent = "Copied";
        button.setAttribute("data-copied", "");
        setTimeout(function () {
          button.textContent = original;
          button.removeAttribute("data-copied");
        }, 1500);
      },
      function () {
        button.textContent = "Press Ctrl+C";
      }
    );
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // --- Tabs (role="tablist") -------------------------------------------------------------------
  //
  // A click or the arrow keys pick a tab; its panel (aria-controls) gets .is-active, the others
  // are hidden by the stylesheet. A tab with data-tab-key is remembered for the page's session,
  // so the workbench keeps the agent's tab from ticket to ticket.

  function tabKeyName(tablist) {
    return "sellerdesk.tab." + (tablist.getAttribute("aria-label") || "tabs");
  }

  function selectTab(tab, focus) {
    var tablist = tab.closest("[role=tablist]");
    if (!tablist) {
      return;
    }
    tablist.querySelectorAll("[role=tab]").forEach(function (other) {
      var chosen = other === tab;
      other.setAttribute("aria-selected", chosen ? "true" : "false");
      other.setAttribute("tabindex", chosen ? "0" : "-1");
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel && panel.getAttribute("role") === "tabpanel") {
        panel.classList.toggle("is-active", chosen);
      }
    });
    if (focus) {
      tab.focus();
    }
    var key = tab.getAttribute("data-tab-key");
    if (key) {
      try {
        window.sessionStorage.setItem(tabKeyName(tablist), key);
      } catch (error) {
        // Storage refused (private mode): the tab is simply not remembered.
      }
    }
  }

  function restoreTabs(root) {
    root.querySelectorAll("[role=tablist]").forEach(function (tablist) {
      var key = null;
      try {
        key = window.sessionStorage.getItem(tabKeyName(tablist));
      } catch (error) {
        key = null;
      }
      var tab = key && tablist.querySelector('[role=tab][data-tab-key="' + key + '"]');
      if (tab && tab.getAttribute("aria-selected") !== "true") {
        selectTab(tab, false);
      }
    });
  }

  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest("[role=tablist] [role=tab]");
    if (tab && tab.hasAttribute("aria-controls") && document.getElementById(tab.getAttribute("aria-controls"))) {
      selectTab(tab, false);
    }
  });

  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest("[role=tablist] [role=tab]");
    if (!tab) {
      return;
    }
    var tabs = Array.prototype.slice.call(tab.closest("[role=tablist]").querySelectorAll("[role=tab]"));
    var index = tabs.indexOf(tab);
    var next = null;
    if (event.key === "ArrowRight") {
      next = tabs[(index + 1) % tabs.length];
    } else if (event.key === "ArrowLeft") {
      next = tabs[(index - 1 + tabs.length) % tabs.length];
    } else if (event.key === "Home") {
      next = tabs[0];
    } else if (event.key === "End") {
      next = tabs[tabs.length - 1];
    }
    if (next) {
      event.preventDefault();
      if (next.hasAttribute("aria-controls") && document.getElementById(next.getAttribute("aria-controls"))) {
        selectTab(next, true);
      } else {
        next.focus();
      }
    }
  });

  // --- Menus from the keyboard ------------------------------------------------------------------
  //
  // <details class="menu"> opens with Enter or Space already; here ArrowDown on its summary opens
  // it at the first item, and the arrows move between the items of an open menu.

  function menuItems(menu) {
    return Array.prototype.slice.call(
      menu.querySelectorAll(".menu-panel .menu-item:not([hidden])")
    ).filter(function (item) {
      return item.offsetParent !== null;
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") {
      return;
    }
    var menu = event.target.closest && event.target.closest("details.menu");
    if (!menu || isTypingTarget(event.target)) {
      return;
    }
    event.preventDefault();
    if (!menu.open) {
      menu.open = true;
    }
    var items = menuItems(menu);
    if (!items.length) {
      return;
    }
    var index = items.indexOf(document.activeElement);
    var step = event.key === "ArrowDown" ? 1 : -1;
    var next = index === -1 ? (step === 1 ? 0 : items.length - 1) : (index + step + items.length) % items.length;
    items[next].focus();
  });

  // --- Start-up and HTMX swaps ----------------------------------------------------------------

  function enhance(root) {
    root.querySelectorAll("[data-show-shortcuts][hidden]").forEach(function (button) {
      button.hidden = false; // only useful with JavaScript, so hidden in the HTML
      button.addEventListener("click", function () {
        var menu = button.closest("details");
        if (menu) {
          menu.open = false;
        }
        showHelp();
      });
    });
    enhanceMessages(root);
    updateTimes(root);
    restoreTabs(root);
    showProgress(root);
  }

  /* Progress bars carry their width as data-percent: the CSP allows no style="" attributes, so the
     width is set here through the CSSOM (the percentage is also written out beside the bar). */
  function showProgress(root) {
    var bars = Array.prototype.slice.call(root.querySelectorAll("[data-percent]"));
    if (root.matches && root.matches("[data-percent]")) {
      bars.push(root);
    }
    bars.forEach(function (bar) {
      var percent = Math.max(0, Math.min(100, parseFloat(bar.getAttribute("data-percent")) || 0));
      bar.style.width = percent + "%";
    });
  }

  // Set at once (this script is deferred: it runs before DOMContentLoaded), so what the
  // stylesheet hides only with JavaScript (inactive tab panels) does not flash first.
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    // Relative times drift; refresh them every minute (bounded work: only <time> elements).
    setInterval(function () {
      updateTimes(document);
    }, MINUTE);
  });

  document.addEventListener("htmx:load", function (event) {
    enhance(event.target);
  });

  window.Sellerdesk = {
    shortcuts: { register: register, showHelp: showHelp, isTypingTarget: isTypingTarget },
    relativeTime: relativeTime,
    csrfToken: csrfToken,
  };
})();
