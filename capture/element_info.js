// Runs in the page on the target element; returns what a person (and assistive technology) sees.
(el) => {
  const clean = (s) => (s || "").replace(/\s+/g, " ").trim() || null;
  const tag = el.tagName.toLowerCase();
  let label = null;
  if (el.labels && el.labels.length) {
    label = clean(Array.from(el.labels).map((l) => l.innerText).join(" "));
  }
  if (!label && el.getAttribute("aria-labelledby")) {
    label = clean(el.getAttribute("aria-labelledby").split(/\s+/)
      .map((id) => (document.getElementById(id) || {}).innerText || "").join(" "));
  }
  if (!label) label = clean(el.getAttribute("aria-label"));
  const nav = el.closest("nav,[role=navigation]");
  const dialog = el.closest("dialog,[role=dialog],[role=alertdialog]");
  let heading = null;
  const h = document.querySelector("main h1, h1");
  if (h) heading = clean(h.innerText);
  if (dialog) {
    const dh = dialog.querySelector("h1,h2,h3,[role=heading]");
    if (dh) heading = clean(dh.innerText);
  }
  return {
    tag,
    input_type: tag === "input" ? (el.getAttribute("type") || "text").toLowerCase() : null,
    label,
    text: clean(el.innerText || el.value || "")?.slice(0, 120) || null,
    test_id: el.getAttribute("data-testid"),
    in_dialog: !!dialog,
    in_navigation: nav ? (clean(nav.getAttribute("aria-label")) || "navigation") : null,
    heading,
  };
}
