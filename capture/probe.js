// Runs on the elements a locator matches (`els`); for exactly one, waits until it has stopped moving
// (motion.js: fonts in, animations with an end finished; then two measurements a frame apart agree, at
// most `budgetMs` in all) and describes it (element_info.js, which scrolls it into view first).
async (els, budgetMs) => {
  if (els.length !== 1) return { count: els.length };
  const M = __MOTION__;
  const info = __ELEMENT_INFO__;
  const el = els[0];
  const until = performance.now() + budgetMs;
  await M.still(budgetMs);
  let facts = info(el);
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
