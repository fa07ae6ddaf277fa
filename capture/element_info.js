// Runs in the page on the target element (ARIA is capture/aria.js, CONTEXT capture/context.js, spliced
// in by locate.py).
// Scrolls it into view when it is not fully visible, then returns what a person (and assistive
// technology) sees, its box in CSS pixels of its frame's viewport, and the page context.
(el) => {
  const A = __ARIA__;
  const contextOf = (__CONTEXT__)(A);
  const clean = (s) => A.norm(s) || null;
  // Attributes that usually outlive a relabelling: what the app's code calls the element. Ids that look
  // generated (long runs of digits, hex) are left out.
  const stableAttributes = (e) => {
    const out = {};
    for (const k of ["id", "name", "for", "aria-controls"]) {
      const v = e.getAttribute(k);
      if (v && v.length <= 80 && !/\d{3,}|[0-9a-f]{8,}|^:r|^ember|^react/i.test(v)) out[k] = v;
    }
    const href = e.getAttribute("href");
    if (href && !href.startsWith("javascript:")) { try { out.href = new URL(href, location.href).pathname; } catch (_) {} }
    return out;
  };
  const tag = el.tagName.toLowerCase();
  let r = el.getBoundingClientRect();
  if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {
    el.scrollIntoView({ block: "center", inline: "nearest", behavior: "instant" });
    r = el.getBoundingClientRect();
  }
  const nav = el.closest("nav,[role=navigation]");
  const dialog = el.closest("dialog,[role=dialog],[role=alertdialog]");
  let heading = null;
  const h = document.querySelector("main h1, h1");
  if (h) heading = clean(h.innerText);
  if (dialog) {
    const dh = dialog.querySelector("h1,h2,h3,[role=heading]");
    if (dh) heading = clean(dh.innerText);
  }
  const type = tag === "input" ? (el.getAttribute("type") || "text").toLowerCase() : null;
  const isField = tag === "textarea" || tag === "select" || (tag === "input" && !["button", "submit", "reset"].includes(type));
  // Never the value of a field: it may be what the user typed (a password, a token).
  const text = isField ? null : clean(el.innerText || (tag === "input" ? el.value : ""));
  return {
    info: {
      role: A.roleOf(el),
      name: clean(A.nameOf(el)),
      tag,
      input_type: type,
      label: clean(A.labelOf(el)),
      text: text ? text.slice(0, 120) : null,
      test_id: el.getAttribute("data-testid"),
      in_dialog: !!dialog,
      in_navigation: nav ? (clean(nav.getAttribute("aria-label")) || "navigation") : null,
      context: contextOf(el),
      attributes: stableAttributes(el),
    },
    box: { x: r.x, y: r.y, width: r.width, height: r.height },
    heading,
    dpr: window.devicePixelRatio,
    url: location.href,
    title: document.title,
    top: window === window.top,
    passwords: Array.from(document.querySelectorAll("input[type=password]")).map((e) => e.getBoundingClientRect())
      .filter((b) => b.width > 0 && b.height > 0).map((b) => [b.x, b.y, b.width, b.height]),
  };
}
