/* The ticket's workbench: card buttons, the Products and Coupons tabs, snippet picks.
 *
 * Everything works without this file (forms post, pages reload); with it:
 * - a card button, and a decision's Confirm, are disabled while their request runs, so a double
 *   click sends one card or one decision (the server also keeps one per form token);
 * - "Cancel" on a decision's confirmation step closes it in place;
 * - "Use in snippet" on a product or coupon remembers it for the snippet picker, whose
 *   {{ product.* }} and {{ coupon.* }} placeholders then use it;
 * - buttons that need this file ([data-snippet-pick][hidden]) are shown.
 * No inline scripts: the page's Content-Security-Policy forbids them.
 */
(function () {
  "use strict";

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  function $all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function enhance(root) {
    $all("[data-snippet-pick][hidden]", root).forEach(function (button) {
      button.hidden = false;
    });
  }

  // --- Snippet picks ------------------------------------------------------------------------

  var picked = { product: null, coupon: null };

  function drawPicks() {
    var box = $("#snippet-picks");
    if (!box) {
      return;
    }
    box.textContent = "";
    ["product", "coupon"].forEach(function (field) {
      var input = $("#snippet-" + field);
      if (input) {
        input.value = picked[field] ? picked[field].value : "";
      }
      if (!picked[field]) {
        return;
      }
      var chip = document.createElement("span");
      chip.className = "badge snippet-pick";
      chip.textContent = (field === "product" ? "Product: " : "Coupon: ") + picked[field].label + " ";
      var clear = document.createElement("button");
      clear.type = "button";
      clear.className = "copy-btn";
      clear.setAttribute("data-snippet-clear", field);
      clear.setAttribute("aria-label", "Stop using " + picked[field].label + " in snippets");
      clear.textContent = "\u00d7";
      chip.appendChild(clear);
      box.appendChild(chip);
    });
  }

  document.addEventListener("click", function (event) {
    var pick = event.target.closest && event.target.closest("[data-snippet-pick]");
    if (pick) {
      picked[pick.getAttribute("data-snippet-pick")] = {
        value: pick.getAttribute("data-snippet-value"),
        label: pick.getAttribute("data-snippet-label"),
      };
      drawPicks();
      return;
    }
    var clear = event.target.closest && event.target.closest("[data-snippet-clear]");
    if (clear) {
      picked[clear.getAttribute("data-snippet-clear")] = null;
      drawPicks();
      return;
    }
    // "Cancel" on a decision's confirmation step: close it in place (without JS it is a link
    // back to the page).
    var cancel = event.target.closest && event.target.closest("[data-aftersale-cancel]");
    var panel = cancel && cancel.closest(".aftersale-panel");
    if (panel) {
      event.preventDefault();
      panel.textContent = "";
    }
  });

  // --- Card buttons: one card per click ------------------------------------------------------

  function guarded(target) {
    return target.closest && target.closest("[data-card-form], [data-aftersale-form]");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = guarded(event.target);
    if (!form) {
      return;
    }
    if (form.getAttribute("data-sending") === "true") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sending", "true");
    $all("button[type=submit]", form).forEach(function (button) {
      button.disabled = true;
    });
    var slot = form.querySelector("input[name=slot]");
    var box = slot && document.getElementById(slot.value);
    if (box) {
      box.textContent = "";
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = guarded(event.target);
    if (!form) {
      return;
    }
    form.removeAttribute("data-sending");
    $all("button[type=submit]", form).forEach(function (button) {
      button.disabled = false;
    });
    // A fresh token for the next card from this button: the one just used is spent. (A decision
    // keeps its token: confirming again after a lost answer must be the same decision.)
    var token = form.hasAttribute("data-card-form") && form.querySelector("input[name=token]");
    if (token && event.detail && event.detail.successful && window.crypto && crypto.randomUUID) {
      token.value = crypto.randomUUID();
    }
  });

  // The composer is redrawn after a send: keep what was picked for snippets.
  document.addEventListener("htmx:afterSwap", function (event) {
    enhance(event.target);
    drawPicks();
  });
  document.addEventListener("htmx:load", function (event) {
    enhance(event.target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
  });
})();
