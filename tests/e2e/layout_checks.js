() => {
  // tests/e2e/test_layout.py: what is wrong with the page's layout, as sentences (empty: nothing).
  // Element boxes, not pixels: the ticket bar above the thread and its controls inside it; every
  // visible control inside the window and inside the pane that clips it; labels whole (nothing cut
  // with an ellipsis); placeholders whole; the composer on screen.
  const problems = [];
  const name = (el) => {
    const label = (el.getAttribute("aria-label") || el.textContent || el.value || "")
      .replace(/\s+/g, " ").trim().slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${label}"`;
  };
  const shown = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== "hidden" && style.display !== "none" && box.width > 0 &&
      box.height > 0 && !el.closest("[hidden], .visually-hidden, details:not([open]) > .menu-panel");
  };
  const clipper = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX !== "visible" || style.overflowY !== "visible") return up;
    }
    return null;
  };
  const W = window.innerWidth, H = window.innerHeight;
  if (document.documentElement.scrollWidth > W + 1) {
    problems.push(`the page is ${document.documentElement.scrollWidth}px wide in a ${W}px window`);
  }
  // The ticket bar: above the thread, never over it, and its controls inside it.
  const header = document.querySelector("#ticket-header");
  const scroll = document.querySelector("#thread-scroll");
  if (header && shown(header)) {
    const bar = header.getBoundingClientRect();
    if (scroll && scroll.getBoundingClientRect().top < bar.bottom - 0.5) {
      problems.push(`the thread starts at ${scroll.getBoundingClientRect().top}px, under the bar (bottom ${bar.bottom}px)`);
    }
    header.querySelectorAll("a, button, summary, .pill, h2").forEach((el) => {
      if (!shown(el)) return;
      const box = el.getBoundingClientRect();
      if (box.top < bar.top - 0.5 || box.bottom > bar.bottom + 0.5 || box.left < bar.left - 0.5 || box.right > bar.right + 0.5) {
        problems.push(`${name(el)} sticks out of the ticket bar`);
      }
    });
  }
  // Every visible control inside the window and inside the pane that clips it.
  const panes = "#mailbox-rail, #list-pane, #thread-pane, #sidebar";
  document.querySelectorAll(`${panes}`).forEach((pane) => {
    if (!shown(pane)) return;
    pane.querySelectorAll("a, button, summary, input, select, textarea, [role=tab], .pill, .badge, kbd").forEach((el) => {
      if (!shown(el)) return;
      const box = el.getBoundingClientRect();
      if (box.left < -0.5 || box.right > W + 0.5) {
        problems.push(`${name(el)} is cut by the window (${Math.round(box.left)} to ${Math.round(box.right)} of ${W})`);
        return;
      }
      const clip = clipper(el);
      if (!clip) return;
      const area = clip.getBoundingClientRect();
      if (box.left < area.left - 0.5 || box.right > area.right + 0.5) {
        problems.push(`${name(el)} is cut by ${name(clip)} (${Math.round(box.left)} to ${Math.round(box.right)} in ${Math.round(area.left)} to ${Math.round(area.right)})`);
      }
    });
  });
  // Whole labels: nothing truncated with an ellipsis or overflowing its box.
  document.querySelectorAll(".ticket-row .buyer, .menu-button-label, .folder-label, [role=tab], .ticket-buyer, .btn, .composer-tab, #list-title").forEach((el) => {
    if (!shown(el)) return;
    if (el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${name(el)} is cut (${el.scrollWidth}px of text in ${el.clientWidth}px)`);
    }
  });
  // Placeholders that say what a field is for are read whole.
  document.querySelectorAll("#mailbox-search, #order-search").forEach((input) => {
    if (!shown(input)) return;
    const style = getComputedStyle(input);
    const context = document.createElement("canvas").getContext("2d");
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const needed = context.measureText(input.placeholder).width;
    if (needed > room + 1) problems.push(`the placeholder of #${input.id} is cut (${Math.round(needed)}px in ${Math.round(room)}px)`);
  });
  // The composer is on screen.
  const composer = document.querySelector("#composer");
  if (composer && shown(composer) && composer.getBoundingClientRect().bottom > H + 0.5) {
    problems.push(`the composer ends at ${composer.getBoundingClientRect().bottom}px in a ${H}px window`);
  }
  return problems;
}
