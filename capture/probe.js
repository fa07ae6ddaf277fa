// Runs on the elements a locator matches (`els`); for exactly one, waits until it has stopped moving
// (motion.js: fonts in, animations with an end finished; then two measurements a frame apart agree, at
// most `budgetMs` in all) and describes it (element_info.js, which scrolls it into view first).
// `deferred` (a replay about to photograph the page, top frame only): no frame wait here; the element and
// its box are kept (`window.__guidecastTarget`) and the replay's script after the screenshot measures it
// again: equal, and the picture was taken between two agreeing measurements; else it probes again. The
// page is frozen for the picture here too (freeze.js).
async (els, [budgetMs, deferred]) => {
  if (els.length !== 1) return { count: els.length };
  const M = __MOTION__;
  const info = __ELEMENT_INFO__;
  const el = els[0];
  const until = performance.now() + budgetMs;
  await M.still(budgetMs);
  let facts = info(el);
  if (deferred && window === window.top) {
    window.__guidecastTarget = [el, facts.box];
    (__FREEZE__)();  // the picture comes next: one round trip less
    return { count: 1, facts, deferred: true };
  }
  for (;;) {
    await M.frame();
    if (!el.isConnected) return { count: 0 };
    if (M.same(el.getBoundingClientRect(), facts.box)) break;
    const left = until - performance.now();
    if (left <= 0) break;
    await M.still(left);
    facts = info(el);
  }
  return { count: 1, facts };
}
