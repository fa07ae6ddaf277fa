// Runs in the page when every locator of a step failed: which visible element is the one the capture
// recorded (`rec`: its ElementInfo), judged by its other traits. ARIA is capture/aria.js, CONTEXT
// capture/context.js (spliced in by locate.py). Returns the best candidate's XPath, its score, the
// traits that matched and the runner-up's score, or null when nothing is a candidate.
(rec) => {
  const A = __ARIA__;
  const contextOf = (__CONTEXT__)(A);
  const norm = (s) => A.norm(s).toLowerCase();
  const words = (s) => new Set(norm(s).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 1));
  const overlap = (a, b) => {
    const x = words(a), y = words(b);
    if (!x.size || !y.size) return 0;
    let n = 0;
    for (const w of x) if (y.has(w)) n++;
    return n / Math.max(x.size, y.size);
  };
  const same = (a, b) => a != null && b != null && a !== "" && norm(String(a)) === norm(String(b));
  const xpathOf = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      let i = 1;
      for (let s = e.previousElementSibling; s; s = s.previousElementSibling) if (s.tagName === e.tagName) i++;
      parts.unshift(`${e.tagName.toLowerCase()}[${i}]`);
    }
    return "/" + parts.join("/");
  };
  const sel = "a,button,input,select,textarea,summary,option,[role],[tabindex],[data-testid],[contenteditable=true]";
  const results = [];
  for (const el of document.querySelectorAll(sel)) {
    if (!A.isVisible(el)) continue;
    const tag = el.tagName.toLowerCase();
    const role = A.roleOf(el);
    const type = tag === "input" ? (el.getAttribute("type") || "text").toLowerCase() : null;
    const testId = el.getAttribute("data-testid");
    const sameRole = !!rec.role && role === rec.role;
    const sameTestId = !!rec.test_id && testId === rec.test_id;
    if (!sameRole && !sameTestId) continue;  // a different kind of thing is a different element
    if (rec.input_type && type && type !== rec.input_type && !sameTestId) continue;
    let score = 0;
    const matched = [];
    const hit = (what, points) => { score += points; if (!matched.includes(what)) matched.push(what); };
    if (sameTestId) hit("test id", 6);
    else if (rec.test_id && testId) score -= 3;  // both have test ids, and they differ
    if (sameRole) hit("role", 2);
    if (tag === rec.tag) score += 0.5;
    const attrs = rec.attributes || {};
    for (const [k, v] of Object.entries(attrs)) {
      const now = k === "href" && el.getAttribute("href") ? new URL(el.getAttribute("href"), location.href).pathname : el.getAttribute(k);
      if (now === v) hit(k === "href" ? "link address" : `${k} attribute`, k === "href" ? 3 : 4);
    }
    const name = A.nameOf(el);
    if (same(name, rec.name)) hit("name", 3);
    else if (rec.name) { const o = overlap(name, rec.name); if (o > 0) hit("words of its name", 2 * o); }
    const text = tag === "input" || tag === "textarea" || tag === "select" ? "" : el.innerText;
    if (rec.text && same(text, rec.text) && !same(name, rec.name)) hit("text", 2);
    const ctx = contextOf(el);
    const rc = rec.context || {};
    for (const [k, what, points] of [["placeholder", "placeholder", 2], ["column", "column", 1.5], ["row", "row", 1.5],
                                      ["group", "group", 1], ["before", "text before it", 1.5], ["submit", "form", 1]]) {
      if (same(ctx[k], rc[k])) hit(what, points);
    }
    if (rc.ordinal != null && ctx.ordinal === rc.ordinal && ctx.count === rc.count) hit("position in its form", 1);
    const dialog = !!el.closest("dialog,[role=dialog],[role=alertdialog]");
    if (dialog === !!rec.in_dialog) score += 0.5;
    const nav = el.closest("nav,[role=navigation]");
    if (rec.in_navigation && nav) hit("menu", 1);
    if (rec.box) {
      const r = el.getBoundingClientRect();
      const dx = (r.x + r.width / 2) - (rec.box.x + rec.box.width / 2);
      const dy = (r.y + r.height / 2) - (rec.box.y + rec.box.height / 2);
      const near = Math.max(0, 1 - Math.hypot(dx, dy) / 240);
      if (near > 0.5) hit("place on the page", 2 * near);
      else score += 2 * near;
      const sized = Math.min(r.width, rec.box.width) / Math.max(r.width, rec.box.width, 1);
      score += 0.5 * sized;
    }
    results.push({ xpath: xpathOf(el), score, matched });
  }
  if (!results.length) return null;
  results.sort((a, b) => b.score - a.score);
  return { ...results[0], second: results.length > 1 ? results[1].score : 0, candidates: results.length };
}
