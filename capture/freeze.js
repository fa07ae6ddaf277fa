// Before a picture: the text caret hidden, and animations that never end (spinners, pulses) held at their
// start so that the same page gives the same pixels (animations with an end have finished: motion.js).
// What Playwright's `animations="disabled", caret="hide"` does, in one round trip (or none: probe.js runs
// it when the replay photographs next). Once per picture: a second call before the thaw does nothing.
() => {
  if (window.__guidecastHeld) return;
  const s = document.createElement('style'); s.setAttribute('data-guidecast', 'caret');
  s.textContent = '*, *::before, *::after { caret-color: transparent !important; }';
  (document.head || document.documentElement).appendChild(s);
  const held = [];
  for (const a of document.getAnimations()) {
    const t = a.effect && a.effect.getComputedTiming();
    if (t && t.endTime === Infinity && a.playState === 'running') { held.push([a, a.currentTime]); a.pause(); a.currentTime = 0; }
  }
  window.__guidecastHeld = [s, held];
}
