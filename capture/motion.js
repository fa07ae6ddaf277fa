// Waits (in the page, no polling from outside) until the page has stopped moving: web fonts in, and every
// running Web Animation with an end (CSS transitions and animations included; spinners that run forever
// are not waited for) finished, or `budgetMs` spent. An expression: evaluates to {still, frame, same}.
(() => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
  // One rendering frame (a timer stands in where frames are not produced, e.g. a hidden tab).
  const frame = () => new Promise((r) => { requestAnimationFrame(() => r()); setTimeout(r, 50); });
  const ending = (a) => {
    try {
      if (a.playState !== "running") return false;
      const t = a.effect && a.effect.getComputedTiming();
      return !!t && Number.isFinite(t.endTime);
    } catch (e) {
      return false;
    }
  };
  const still = async (budgetMs) => {
    const until = performance.now() + budgetMs;
    if (document.fonts) await Promise.race([document.fonts.ready, sleep(budgetMs)]);
    for (;;) {
      const left = until - performance.now();
      const running = document.getAnimations ? document.getAnimations().filter(ending) : [];
      if (!running.length || left <= 0) return running.length === 0;
      await Promise.race([Promise.all(running.map((a) => a.finished.catch(() => null))), sleep(left)]);
    }
  };
  const same = (a, b) => Math.abs(a.x - b.x) < 0.5 && Math.abs(a.y - b.y) < 0.5 &&
    Math.abs(a.width - b.width) < 0.5 && Math.abs(a.height - b.height) < 0.5;
  return { still, frame, same };
})()
