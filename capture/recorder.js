// guidecast recorder: injected into every page and frame (context.add_init_script). Listens to what
// the person does and reports one event per meaningful action to Python through the exposed
// binding window.__guidecastRecord. Text fields are reported once, when the field is left or
// before the next action, never per key. The floating toolbar (top frame only) is not recorded.
(() => {
  // Once per document (a popup's first about:blank keeps its window when it navigates on).
  if (document.__guidecastRecorder) return;
  Object.defineProperty(document, "__guidecastRecorder", { value: true });
  window.__guidecastRecorder = true;
  const A = __ARIA__;
  const contextOf = (__CONTEXT__)(A);
  const DOC_ID = Math.random().toString(36).slice(2);
  window.__guidecastDoc = DOC_ID;
  const TOP = window === window.top;
  let toolbarHost = null;

  const send = (ev) => {
    ev.doc = DOC_ID;
    ev.t = Date.now();
    try {
      return window.__guidecastRecord(ev);
    } catch (e) {
      return Promise.resolve(null);
    }
  };
  const inToolbar = (ev) => !!toolbarHost && ev.composedPath().includes(toolbarHost);
  const deepTarget = (ev) => ev.composedPath()[0] || ev.target;

  // -- describing an element: role, name, label, test id, text and ranked locators ---------------
  const TEXT_TYPES = new Set(["", "text", "email", "password", "search", "tel", "url", "number", "date",
    "datetime-local", "month", "time", "week", "color"]);
  const isTextField = (el) => el && (el.tagName === "TEXTAREA" || el.isContentEditable ||
    (el.tagName === "INPUT" && TEXT_TYPES.has((el.getAttribute("type") || "").toLowerCase())));
  const isToggle = (el) => el && el.tagName === "INPUT" && ["checkbox", "radio"].includes(el.type);
  const CLICKABLE = "a[href],button,summary,input[type=submit],input[type=button],input[type=reset]," +
    "input[type=image],[role=button],[role=link],[role=menuitem],[role=menuitemcheckbox]," +
    "[role=menuitemradio],[role=option],[role=tab],[role=checkbox],[role=radio],[role=switch]," +
    "[role=treeitem],[role=combobox],[onclick]";

  const visible = (el) => A.isVisible(el);
  const all = (sel) => Array.from(document.querySelectorAll(sel)).filter(visible);
  const esc = (s) => (window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/["\\]/g, "\\$&"));

  // Short CSS a person can read, from what is stable about the element: its id, name, a stable
  // attribute, a class (alone, under the nearest ancestor with an id, or in the list row with its text);
  // a positional path only when nothing else is unique, and then as short as it can be.
  const uniq = (sel) => { try { return document.querySelectorAll(sel).length === 1; } catch (e) { return false; } };
  const stableId = (id) => id && !/\d{3,}|^[:_]|[:]|^(ember|react|radix|mui|headlessui|downshift)/i.test(id);
  const stableClass = (c) => /^[a-zA-Z][\w-]*$/.test(c) && !/\d{3,}|^(is-|has-|ng-|js-|active$|selected$|focus|hover|open$|show$|disabled$|css-|sc-|jsx-)/.test(c) && c.length < 40;
  const quote = (v) => `"${v.replace(/"/g, '\\"')}"`;
  const ATTRS = ["name", "data-test", "data-qa", "data-cy", "aria-label", "title", "type", "role", "href", "for", "value"];

  function ownSelectors(el) {
    const tag = el.tagName.toLowerCase();
    const out = [];
    if (stableId(el.id)) out.push("#" + esc(el.id));
    for (const a of ATTRS) {
      const v = el.getAttribute(a);
      if (v && v.length < 80 && !(a === "href" && /^(javascript:|#$)/.test(v))) out.push(`${tag}[${a}=${quote(v)}]`);
    }
    for (const c of Array.from(el.classList).filter(stableClass)) out.push(`${tag}.${esc(c)}`);
    out.push(tag);
    return out;
  }

  function rowOf(el) {
    const row = el.parentElement && el.parentElement.closest("li,tr,[role=row],[role=listitem]");
    const text = row ? A.norm(row.innerText).split(" ").slice(0, 6).join(" ") : "";
    return row && text && text.length <= 40 && !/["'\\]/.test(text) ? { row, text } : null;
  }

  function cssPath(el) {
    const own = ownSelectors(el);
    for (const sel of own.slice(0, -1)) if (uniq(sel)) return sel;
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      if (!stableId(a.id) || !uniq("#" + esc(a.id))) continue;
      for (const sel of own) if (uniq(`#${esc(a.id)} ${sel}`)) return `#${esc(a.id)} ${sel}`;
      break;
    }
    const r = rowOf(el);
    if (r) {
      const rowTag = r.row.tagName.toLowerCase();
      const rows = Array.from(document.querySelectorAll(rowTag)).filter((x) => A.norm(x.innerText).includes(r.text));
      for (const sel of own) {
        const hits = rows.flatMap((x) => Array.from(x.querySelectorAll(sel)));
        if (hits.length === 1 && hits[0] === el) return `${rowTag}:has-text(${quote(r.text)}) ${sel}`;
      }
    }
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && e !== document.documentElement; e = e.parentElement) {
      if (e !== el && stableId(e.id) && uniq("#" + esc(e.id))) {
        parts.unshift("#" + esc(e.id));
        break;
      }
      const tag = e.tagName.toLowerCase();
      const same = e.parentElement ? Array.from(e.parentElement.children).filter((c) => c.tagName === e.tagName) : [];
      parts.unshift(same.length > 1 ? `${tag}:nth-of-type(${same.indexOf(e) + 1})` : tag);
      if (uniq(parts.join(" > "))) break;
    }
    return parts.join(" > ");
  }

  // How a person would call an element (for its step id): its name, label or placeholder, else its row's
  // text, else its form field name ("_filter_column": "filter column").
  function what(el) {
    const r = rowOf(el);
    const field = (el.getAttribute("name") || "").replace(/[_\W]+/g, " ").trim();
    return A.nameOf(el) || A.labelOf(el) || el.getAttribute("placeholder") || (r ? r.text : "") || field;
  }

  function countRole(role, name) {
    let n = 0;
    for (const el of document.querySelectorAll("*")) {
      if (A.roleOf(el) === role && visible(el) && A.nameOf(el) === name) n++;
    }
    return n;
  }

  function countText(text) {
    let n = 0;
    for (const el of all("body *")) {
      if (A.norm(el.innerText) === text && !Array.from(el.children).some((c) => A.norm(c.innerText) === text)) n++;
    }
    return n;
  }

  function describe(el) {
    const tag = el.tagName.toLowerCase();
    const role = A.roleOf(el);
    const name = A.nameOf(el);
    const label = A.labelOf(el);
    const testId = el.getAttribute("data-testid");
    const field = isTextField(el) || tag === "select" || isToggle(el);
    const text = field ? "" : A.norm(el.innerText).slice(0, 200);
    const placeholder = el.getAttribute("placeholder");
    const cands = [];
    if (role && name) cands.push({ loc: { role, name }, count: countRole(role, name) });
    if (label && field) cands.push({ loc: { label }, count: all("input,textarea,select").filter((e) => A.labelOf(e) === label).length });
    if (testId) cands.push({ loc: { test_id: testId }, count: all(`[data-testid="${testId.replace(/"/g, '\\"')}"]`).length });
    if (placeholder && field) cands.push({ loc: { placeholder }, count: all(`[placeholder="${placeholder.replace(/"/g, '\\"')}"]`).length });
    if (text && text.length <= 60 && !text.includes("\n")) cands.push({ loc: { text }, count: countText(text) });
    const css = cssPath(el);
    cands.push({ loc: { css }, count: css.includes(":has-text(") ? 1 : all(css).length });
    const r = el.getBoundingClientRect();
    return {
      role, name: name || null, label: label || null, tag, test_id: testId,
      input_type: tag === "input" ? (el.getAttribute("type") || "text").toLowerCase() : null,
      text: text ? text.slice(0, 120) : null,
      in_dialog: !!el.closest("dialog,[role=dialog],[role=alertdialog]"),
      in_navigation: el.closest("nav,[role=navigation]") ? (A.norm((el.closest("nav,[role=navigation]").getAttribute("aria-label"))) || "navigation") : null,
      context: contextOf(el),
      candidates: cands,
      what: what(el).slice(0, 60),
      box: { x: r.x, y: r.y, width: r.width, height: r.height },
    };
  }

  const context = () => ({ url: location.href, title: document.title, dpr: window.devicePixelRatio,
    heading: A.norm((document.querySelector("main h1, h1") || {}).innerText) || null });

  // -- text fields: one event per field ------------------------------------------------------------
  const dirty = new Set();
  function flush(el) {
    if (!el || !dirty.has(el)) return;
    dirty.delete(el);
    const value = el.isContentEditable ? el.innerText : el.value;
    send({ kind: "fill", value, field: fieldId(el), element: describe(el), ...context() });
  }
  const flushAll = () => Array.from(dirty).forEach(flush);
  window.__guidecastFlush = flushAll;

  // A field about to be typed into: Python photographs it now, before the typing (and before an Enter).
  let fieldSeq = 0;
  const fieldId = (el) => el.__guidecastField || (el.__guidecastField = `${DOC_ID}-${++fieldSeq}`);
  document.addEventListener("focusin", (ev) => {
    const el = deepTarget(ev);
    if (!inToolbar(ev) && isTextField(el)) send({ kind: "focus", field: fieldId(el), ...context() });
  }, true);

  document.addEventListener("input", (ev) => {
    const el = deepTarget(ev);
    if (!inToolbar(ev) && isTextField(el)) dirty.add(el);
  }, true);
  document.addEventListener("focusout", (ev) => { if (!inToolbar(ev)) flush(deepTarget(ev)); }, true);

  document.addEventListener("change", (ev) => {
    if (inToolbar(ev)) return;
    const el = deepTarget(ev);
    if (isTextField(el)) return flush(el);
    flushAll();
    if (el.tagName === "SELECT") {
      const opt = el.selectedOptions[0];
      return send({ kind: "select", value: opt ? A.norm(opt.label || opt.textContent) : "", element: describe(el), ...context() });
    }
    if (isToggle(el)) {
      return send({ kind: el.checked ? "check" : "uncheck", element: describe(el), ...context() });
    }
    if (el.tagName === "INPUT" && el.type === "file") {
      return send({ kind: "upload", files: Array.from(el.files || []).map((f) => f.name), element: describe(el), ...context() });
    }
  }, true);

  // -- clicks: reported at pointerdown, before the page reacts (and maybe navigates) --------------
  function clickTarget(el) {
    if (isTextField(el) || el.tagName === "SELECT" || el.tagName === "OPTION" || isToggle(el)) return null;
    const label = el.closest("label");
    if (label && label.control) return null; // toggles and fields report themselves on change/fill
    if (el.tagName === "INPUT" && el.type === "file") return null;
    return el.closest(CLICKABLE) || el;
  }
  document.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    flushAll();
    if (inToolbar(ev)) return;
    const target = clickTarget(deepTarget(ev));
    if (target) send({ kind: "click", element: describe(target), ...context() });
  }, true);
  document.addEventListener("dblclick", (ev) => {
    if (inToolbar(ev)) return;
    const target = clickTarget(deepTarget(ev));
    if (target) send({ kind: "dblclick", element: describe(target), ...context() });
  }, true);

  // -- keys: Enter, Tab, Escape, and navigation/editing keys outside text fields -------------------
  const ALWAYS = new Set(["Enter", "Tab", "Escape"]);
  const OUTSIDE_TEXT = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "PageUp", "PageDown",
    "Home", "End", "Delete", "Backspace", " "]);
  const EDITING = new Set(["a", "c", "v", "x", "z", "y"]);
  document.addEventListener("keydown", (ev) => {
    if (inToolbar(ev) || ev.repeat || ["Shift", "Control", "Alt", "Meta"].includes(ev.key)) return;
    const el = deepTarget(ev);
    const inText = isTextField(el);
    const mod = ev.ctrlKey || ev.metaKey || ev.altKey;
    const meaningful = ALWAYS.has(ev.key) || /^F\d+$/.test(ev.key) ||
      (!inText && OUTSIDE_TEXT.has(ev.key) && !isToggle(el)) ||
      (mod && !(inText && EDITING.has(ev.key.toLowerCase())));
    if (!meaningful) return;
    flushAll();
    const key = [ev.ctrlKey && "Control", ev.altKey && "Alt", ev.metaKey && "Meta",
      ev.shiftKey && ev.key.length > 1 && "Shift", ev.key === " " ? "Space" : ev.key].filter(Boolean).join("+");
    const focused = el && el !== document.body && el !== document.documentElement;
    send({ kind: "press", key, element: focused ? describe(el) : null, ...context() });
  }, true);

  // -- navigations: how this document came to be ---------------------------------------------------
  if (TOP) {
    const nav = (performance.getEntriesByType("navigation")[0] || {}).type || "navigate";
    const loaded = () => send({ kind: "load", nav_type: nav, ...context() });
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", loaded);
    else loaded();
    if (!window.__guidecastHistory) {
      window.__guidecastHistory = true;
      window.addEventListener("pageshow", (ev) => { if (ev.persisted) send({ kind: "load", nav_type: "back_forward", ...context() }); });
      window.addEventListener("popstate", () => send({ kind: "load", nav_type: "back_forward", ...context() }));
    }
  }

  // -- the toolbar: pause, add a note to the last step, stop ----------------------------------------
  function toolbar(state) {
    if (!TOP || !document.body || document.getElementById("__guidecast_toolbar")) return;
    toolbarHost = document.createElement("div");
    toolbarHost.id = "__guidecast_toolbar";
    toolbarHost.style.cssText = "position:fixed;right:12px;bottom:12px;z-index:2147483647;";
    const root = toolbarHost.attachShadow({ mode: "closed" });
    root.innerHTML = `<style>
      .bar{font:13px system-ui,sans-serif;background:#1f2330;color:#fff;border-radius:8px;padding:6px 8px;
        display:flex;gap:6px;align-items:center;box-shadow:0 2px 8px #0006}
      button{font:inherit;border:0;border-radius:5px;padding:4px 8px;cursor:pointer;background:#394056;color:#fff}
      button.stop{background:#c0392b} input{font:inherit;width:14em;padding:3px;border-radius:4px;border:0}
      .dot{width:9px;height:9px;border-radius:50%;background:#e74c3c} .paused .dot{background:#f1c40f}
      [hidden]{display:none}</style>
      <div class="bar"><span class="dot"></span><span class="state">Recording</span>
      <button class="pause">Pause</button><button class="note">Note</button><button class="blur" hidden>Blur</button>
      <input class="text" placeholder="Note for the last step" hidden><button class="save" hidden>Add</button>
      <button class="stop">Stop</button></div>`;
    const $ = (s) => root.querySelector(s);
    const show = (paused) => {
      $(".bar").classList.toggle("paused", paused);
      $(".state").textContent = paused ? "Paused" : "Recording";
      $(".pause").textContent = paused ? "Resume" : "Pause";
    };
    show(!!(state && state.paused));
    $(".pause").onclick = () => send({ kind: "pause" }).then((s) => show(!!(s && s.paused)));
    $(".note").onclick = () => { $(".text").hidden = $(".save").hidden = false; $(".text").focus(); };
    const saveNote = () => {
      const text = $(".text").value.trim();
      if (text) send({ kind: "note", text });
      $(".text").value = "";
      $(".text").hidden = $(".save").hidden = true;
    };
    $(".save").onclick = saveNote;
    $(".text").onkeydown = (e) => { if (e.key === "Enter") saveNote(); };
    $(".stop").onclick = () => { $(".state").textContent = "Stopped"; send({ kind: "stop" }); };
    // the browser extension's "blur this element" (its content script defines the picker)
    $(".blur").hidden = !window.__guidecastPick;
    $(".blur").onclick = () => window.__guidecastPick && window.__guidecastPick(true);
    document.body.appendChild(toolbarHost);
  }
  // Python hides the toolbar for the moment of a screenshot; it comes back by itself in any case.
  let reshow = 0;
  window.__guidecastHideToolbar = (hide) => {
    if (!toolbarHost) return;
    toolbarHost.style.display = hide ? "none" : "";
    clearTimeout(reshow);
    if (hide) reshow = setTimeout(() => { toolbarHost.style.display = ""; }, 1500);
  };
  if (TOP) {
    const install = () => send({ kind: "hello" }).then((state) => { if (!state || !state.stopped) toolbar(state); });
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", install);
    else install();
  }
})();
