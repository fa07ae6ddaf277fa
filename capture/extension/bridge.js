// guidecast extension: the content script's first part, run before capture/recorder.js (the build puts
// both in content.js). recorder.js reports every action through window.__guidecastRecord, as it does
// under `guidecast record`; here that goes to the extension's service worker instead of Python.
// Before an event that gets a screenshot leaves the page, the fields nobody may see (password fields,
// card and one-time-code fields, fields holding a value that looks like a credential, elements the
// person asked to blur) show no text and their boxes go with the event (the server blurs them into the
// pixels as `guidecast record` does), hover styles and the caret are off, and the recorder's toolbar is
// hidden; all of it comes back when the service worker has taken the screenshot.
(() => {
  if (window.__guidecastBridge) return;
  window.__guidecastBridge = true;
  const FRAME_SELECTOR = __FRAME_SELECTOR__;
  const SECRET_PATTERNS = __SECRET_PATTERNS__.map(([kind, rx]) => [kind, new RegExp(rx)]);
  const SILENT = new Set(["hello", "pause", "stop", "note", "load"]);
  const SENSITIVE_AUTOCOMPLETE = /\b(cc-number|cc-csc|cc-exp|one-time-code|current-password|new-password)\b/;
  const PAD = 2;
  const TYPED_PAUSE_MS = 250;

  function luhnOk(digits) {
    let total = 0;
    [...digits].reverse().forEach((ch, i) => {
      let d = Number(ch);
      if (i % 2) d = d > 4 ? d * 2 - 9 : d * 2;
      total += d;
    });
    return total % 10 === 0;
  }
  // What kind of credential a value looks like (capture/privacy.py's patterns, spliced in by the build).
  function secretKind(value) {
    if (!value) return null;
    for (const [kind, rx] of SECRET_PATTERNS) if (rx.test(value)) return kind;
    const v = value.trim();
    if (/^[0-9][0-9 -]{11,22}[0-9]$/.test(v)) {
      const digits = v.replace(/[ -]/g, "");
      if (digits.length >= 13 && digits.length <= 19 && luhnOk(digits)) return "card number";
    }
    return null;
  }
  window.__guidecastSecretKind = secretKind;

  // This frame's `frame:` path and its offset in the top viewport (same-origin frames only).
  function frameChain() {
    const chain = [];
    let dx = 0, dy = 0;
    try {
      for (let w = window; w !== w.top; w = w.parent) {
        const fe = w.frameElement;
        if (!fe) return null;
        chain.unshift(FRAME_SELECTOR(fe));
        const r = fe.getBoundingClientRect();
        dx += r.x + fe.clientLeft;
        dy += r.y + fe.clientTop;
      }
    } catch (e) {
      return null; // a cross-origin parent: this frame's events cannot be placed
    }
    return { chain, offset: [dx, dy] };
  }

  const isShown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  function sensitive() {
    const out = [];
    for (const el of document.querySelectorAll("input, textarea, [data-guidecast-blur]")) {
      const blurred = el.hasAttribute("data-guidecast-blur");
      const type = (el.getAttribute("type") || "").toLowerCase();
      const hidden = type === "password" || SENSITIVE_AUTOCOMPLETE.test(el.getAttribute("autocomplete") || "") ||
        (el.value !== undefined && secretKind(el.value));
      if ((blurred || hidden) && isShown(el)) out.push(el);
    }
    return out;
  }

  // The page as a replay photographs it, before the action: no hover styles (the mouse is on the target),
  // no focus styles on a field about to get the focus, no blinking caret; sensitive fields show no text
  // (the server blurs their boxes into the pixels too).
  const HIDE_CSS = "caret-color:transparent!important;color:transparent!important;" +
    "-webkit-text-fill-color:transparent!important;text-shadow:none!important";
  // no transitions, so the hover and focus styles go at once; the date field's selected part unmarked
  const DATE_PARTS = ["month", "day", "year", "hour", "minute", "second", "ampm"]
    .map((p) => `input::-webkit-datetime-edit-${p}-field`).join(",");
  const STILL_CSS = "*,*::before,*::after{caret-color:transparent!important;transition:none!important}";
  const UNFOCUSED_CSS = "*:focus,*:focus-visible{outline:none!important}" +
    `${DATE_PARTS}{background-color:transparent!important;color:inherit!important}`;
  let hidden = [];
  let hovers = [];
  let style = null;
  function dropHover(rules, unfocus) {
    const states = unfocus ? /:hover|:focus(-visible|-within)?/g : /:hover/g;
    for (const rule of rules) {
      if (rule.selectorText && states.test(rule.selectorText)) {
        hovers.push([rule, rule.selectorText]);
        rule.selectorText = rule.selectorText.replace(states, ":not(*)");
      }
      states.lastIndex = 0;
      if (rule.cssRules) dropHover(rule.cssRules, unfocus);
    }
  }
  // A field or box pressed with the mouse is photographed at the press, before it has the focus or
  // changes (as a replay sees it); its fill or check step takes that picture (the same `field`). A field
  // reached with the keyboard is photographed when it gets the focus (recorder.js).
  let toggled = null;
  const NOT_TEXT = new Set(["checkbox", "radio", "submit", "button", "reset", "image", "file", "hidden", "range"]);
  const fieldOf = (el) => {
    const t = el && el.closest ? (el.closest("label") && el.closest("label").control) || el : null;
    if (!t || !t.tagName) return null;
    if (t.tagName === "TEXTAREA" || t.isContentEditable) return t;
    return t.tagName === "INPUT" && !(t.type === "file" || NOT_TEXT.has(t.type) && !["checkbox", "radio"].includes(t.type))
      ? t : null;
  };
  const toggleOf = (el) => (el && el.tagName === "INPUT" && ["checkbox", "radio"].includes(el.type) ? el : null);
  document.addEventListener("pointerdown", (ev) => {
    const t = ev.button === 0 && !picking ? fieldOf(ev.composedPath()[0] || ev.target) : null;
    if (!t) return;
    t.__guidecastField = t.__guidecastField || `t-${Math.random().toString(36).slice(2)}`;
    // a field that has the focus already (autofocus) is photographed with it, as a replay sees it
    window.__guidecastRecord({ kind: "focus", field: t.__guidecastField, url: location.href, dpr: window.devicePixelRatio },
      { unfocus: document.activeElement !== t });
  }, true);
  document.addEventListener("change", (ev) => { if (toggleOf(ev.target)) toggled = ev.target; }, true);
  // A field typed into is photographed again once the typing pauses: the picture of the key pressed next
  // in it (Enter), which the page may act on at once (a list that adds the item and clears the field).
  let typing = 0;
  document.addEventListener("input", (ev) => {
    const t = ev.composedPath()[0] || ev.target;
    if (!t || !t.__guidecastField || picking) return;
    clearTimeout(typing);
    typing = setTimeout(() => {
      if (document.activeElement === t) {
        window.__guidecastRecord({ kind: "typed", field: t.__guidecastField, url: location.href,
          dpr: window.devicePixelRatio }, { unfocus: false });
      }
    }, TYPED_PAUSE_MS);
  }, true);
  document.addEventListener("keydown", () => clearTimeout(typing), true);
  // Events overlap (a field's fill is reported at the next click): the page stays masked until the
  // last of them is answered; each event gets the boxes masked for it.
  let masked = 0;
  let boxes = [];
  function mask(unfocus) {
    if (masked++ > 0) return boxes;
    boxes = [];
    for (const el of sensitive()) {
      const r = el.getBoundingClientRect();
      hidden.push([el, el.getAttribute("style")]);
      el.style.cssText += ";" + HIDE_CSS + (el.hasAttribute("data-guidecast-blur") ? ";filter:blur(12px)!important" : "");
      boxes.push({ x: r.x - PAD, y: r.y - PAD, width: r.width + 2 * PAD, height: r.height + 2 * PAD });
    }
    for (const sheet of Array.from(document.styleSheets)) {
      try {
        dropHover(sheet.cssRules, unfocus);
      } catch (e) {
        // another origin's stylesheet: its hover styles stay
      }
    }
    style = document.createElement("style");
    style.textContent = STILL_CSS + (unfocus ? UNFOCUSED_CSS : "");
    (document.head || document.documentElement).appendChild(style);
    if (window.__guidecastHideToolbar) window.__guidecastHideToolbar(true);
    return boxes;
  }
  function unmask() {
    if (--masked > 0) return;
    masked = 0;
    for (const [el, css] of hidden) {
      if (css === null) el.removeAttribute("style");
      else el.setAttribute("style", css);
    }
    for (const [rule, sel] of hovers) rule.selectorText = sel;
    hidden = [];
    hovers = [];
    if (style) style.remove();
    style = null;
    if (window.__guidecastHideToolbar) window.__guidecastHideToolbar(false);
  }

  // the masks on screen before the screenshot: two frames and a moment for the compositor (a busy
  // machine presents a frame late), or at most 150 ms when frames are not drawn
  const nextPaint = () => new Promise((done) => {
    const timer = setTimeout(done, 150);
    requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => { clearTimeout(timer); done(); }, 60)));
  });

  // `unfocus`: photograph the field without its focus (it is being pressed or was just tabbed into: the
  // replay photographs it before it has the focus); recorder.js's own focus events are so by default.
  window.__guidecastRecord = (ev, { unfocus = ev.kind === "focus" } = {}) => {
    const top = window === window.top;
    const frame = top ? { chain: [], offset: [0, 0] } : frameChain();
    if (!frame) return Promise.resolve(null);
    ev.frame = frame.chain;
    ev.offset = frame.offset;
    ev.top = top;
    ev.viewport = top ? { width: window.innerWidth, height: window.innerHeight } : null;
    if ((ev.kind === "check" || ev.kind === "uncheck") && toggled && toggled.__guidecastField) ev.field = toggled.__guidecastField;
    if (ev.kind === "press" && document.activeElement && document.activeElement.__guidecastField) {
      ev.field = document.activeElement.__guidecastField;
    }
    if (ev.kind === "fill" && ev.element) {
      const kind = ev.element.input_type === "password" ? "password" : secretKind(ev.value);
      if (kind) ev.secret_kind = kind; // the service worker swaps the value for a reference
    }
    const shot = !SILENT.has(ev.kind);
    // masks go on the top document; a frame's own sensitive fields are covered by its own bridge
    if (shot) ev.blurred = mask(unfocus);
    const painted = shot ? nextPaint() : Promise.resolve();
    return painted.then(() => chrome.runtime.sendMessage({ type: "event", event: ev })).then(
      (state) => { if (shot) unmask(); return state; },
      () => { if (shot) unmask(); return null; });
  };

  // "Blur this element": the next click picks the element to blur in every screenshot from now on.
  let picking = false;
  const outline = document.createElement("div");
  outline.style.cssText = "position:fixed;border:2px dashed #c0392b;background:#c0392b22;z-index:2147483646;" +
    "pointer-events:none;display:none";
  function pick(on) {
    picking = on;
    if (on && !outline.isConnected) (document.body || document.documentElement).appendChild(outline);
    outline.style.display = "none";
    document.documentElement.style.cursor = on ? "crosshair" : "";
  }
  document.addEventListener("mousemove", (ev) => {
    if (!picking) return;
    const r = ev.target.getBoundingClientRect();
    Object.assign(outline.style, { display: "block", left: r.x + "px", top: r.y + "px",
      width: r.width + "px", height: r.height + "px" });
  }, true);
  let eating = false; // the rest of the picking click (mouseup, click) is swallowed too
  const swallow = (ev) => {
    if (!picking && !eating) return false;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    if (ev.type === "click") eating = false;
    return true;
  };
  // registered before recorder.js's listeners, so a picking click is never recorded as a step
  document.addEventListener("pointerdown", (ev) => {
    if (!picking || ev.target.id === "__guidecast_toolbar") return;
    swallow(ev);
    eating = true;
    ev.target.setAttribute("data-guidecast-blur", "");
    pick(false);
    chrome.runtime.sendMessage({ type: "blurred" }).catch(() => {});
  }, true);
  for (const t of ["mousedown", "mouseup", "click", "pointerup"]) document.addEventListener(t, swallow, true);
  window.__guidecastPick = pick;
  chrome.runtime.onMessage.addListener((msg) => {
    if (msg && msg.type === "pick" && window === window.top) pick(true);
  });
})();
