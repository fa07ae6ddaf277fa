// The guide editor: the guide as learners read it, every part editable in place. It edits the JSON edit
// document (composer.edits.EditSet shape) and autosaves it with the revision it was based on. A stale save
// gets 409 and the current document: non-overlapping changes are merged and saved again; overlapping ones
// are shown to the user. Nothing is overwritten. Step text keeps `**bold**` as its only markup; on screen
// it is bold (Ctrl/Cmd+B or the toolbar's B), never asterisks.
"use strict";
(function () {
  var root = document.getElementById("editor");
  if (!root) { return; }
  var gid = root.dataset.guideId;
  var st = {revision: 0, saved: {}, doc: {}, base: null, scale: 1, tools: {}, placed: {}, timer: null, saving: false,
            inflight: null, history: [], at: -1, typing: null, full: {}, applyAll: {}, attention: []};
  var saveState = document.getElementById("save-state");
  var list = document.getElementById("steps");
  var tpl = document.getElementById("step-template");
  var ZOOM_CONTEXT = 160, ZOOM_MIN = 0.45, PAD = 2;

  function clone(o) { return JSON.parse(JSON.stringify(o)); }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function baseStep(id) { return st.base.steps.find(function (s) { return s.id === id; }); }
  function edit(id) { st.doc.steps = st.doc.steps || {}; st.doc.steps[id] = st.doc.steps[id] || {}; return st.doc.steps[id]; }
  function stepEdit(id) { return (st.doc.steps || {})[id] || {}; }
  function say(msg) { saveState.textContent = msg; }
  function tidy() {
    var steps = st.doc.steps || {};
    Object.keys(steps).forEach(function (id) {
      var e = steps[id];
      Object.keys(e).forEach(function (k) {
        var v = e[k];
        if (v === null || v === undefined || v === false || v === "" || (Array.isArray(v) && !v.length)) { delete e[k]; }
      });
      if (!Object.keys(e).length) { delete steps[id]; }
    });
    ["merge", "split", "move", "insert"].forEach(function (k) { if (st.doc[k] && !st.doc[k].length) { delete st.doc[k]; } });
    if (st.doc.steps && !Object.keys(st.doc.steps).length) { delete st.doc.steps; }
    if (st.doc.pronunciations && !Object.keys(st.doc.pronunciations).length) { delete st.doc.pronunciations; }
    ["voice", "rate", "title", "intro", "outro"].forEach(function (k) { if (!st.doc[k]) { delete st.doc[k]; } });
  }

  // ---- markup: **bold** in the document, <strong> on screen ----
  function escapeHtml(t) { return t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  function toHtml(text) { return escapeHtml(text || "").replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>"); }
  function plainOf(text) { return (text || "").replace(/\*\*(.+?)\*\*/g, "$1"); }
  function isBold(n) {
    return n.nodeName === "STRONG" || n.nodeName === "B" ||
      (n.style && (n.style.fontWeight === "bold" || parseInt(n.style.fontWeight, 10) >= 600));
  }
  function toMarkup(el, allowBold) {
    var out = "";
    (function walk(node, bold) {
      node.childNodes.forEach(function (n) {
        if (n.nodeType === 3) {
          out += n.nodeValue.replace(/\*\*/g, "*");  // only our own bold makes markup
        } else if (n.nodeName === "BR") { out += " "; }
        else if (n.nodeType === 1) {
          if (allowBold && !bold && isBold(n)) {
            var start = out.length;
            walk(n, true);
            var inner = out.slice(start), lead = inner.match(/^\s*/)[0], trail = inner.match(/\s*$/)[0];
            var core = inner.trim();
            out = out.slice(0, start) + (core ? lead + "**" + core + "**" + trail : inner);
          } else { walk(n, bold); }
        }
      });
    })(el, false);
    return out.replace(/\*\*\*\*/g, "").replace(/\s+/g, " ").trim();
  }

  // ---- history (undo/redo) ----
  function snapshot(kind) {
    var now = Date.now(), s = JSON.stringify(st.doc);
    if (st.at >= 0 && st.history[st.at] === s) { return; }
    if (kind && st.typing && st.typing.kind === kind && now - st.typing.at < 1500 && st.at === st.history.length - 1) {
      st.history[st.at] = s;  // one undo step per burst of typing in one place
    } else {
      st.history = st.history.slice(0, st.at + 1);
      st.history.push(s);
      st.at = st.history.length - 1;
      if (st.history.length > 200) { st.history.shift(); st.at--; }
    }
    st.typing = kind ? {kind: kind, at: now} : null;
    updateUndo();
  }
  function updateUndo() {
    document.getElementById("undo").disabled = st.at <= 0;
    document.getElementById("redo").disabled = st.at >= st.history.length - 1;
  }
  function travel(d) {
    var to = st.at + d;
    if (to < 0 || to >= st.history.length) { return; }
    st.at = to; st.typing = null;
    st.doc = JSON.parse(st.history[to]);
    updateUndo();
    render(); schedule();
  }

  // ---- order: base order with the document's moves applied; moves recomputed minimally ----
  function baseOrder() { return st.base.steps.map(function (s) { return s.id; }); }
  function order() {
    var o = baseOrder();
    (st.doc.move || []).forEach(function (m) {
      var i = o.indexOf(m.step);
      if (i < 0) { return; }
      o.splice(i, 1);
      var j = m.after === null || m.after === undefined ? 0 : o.indexOf(m.after) + 1;
      o.splice(j, 0, m.step);
    });
    return o;
  }
  function setOrder(target) {
    var base = baseOrder(), idx = target.map(function (id) { return base.indexOf(id); });
    // longest increasing subsequence of base positions: those steps stay, the others move
    var n = idx.length, len = new Array(n).fill(1), prev = new Array(n).fill(-1), best = 0;
    for (var i = 0; i < n; i++) {
      for (var j = 0; j < i; j++) { if (idx[j] < idx[i] && len[j] + 1 > len[i]) { len[i] = len[j] + 1; prev[i] = j; } }
      if (len[i] > len[best]) { best = i; }
    }
    var keep = {};
    for (var k = best; k >= 0; k = prev[k]) { keep[target[k]] = true; }
    var moves = [];
    target.forEach(function (id, p) { if (!keep[id]) { moves.push({step: id, after: p ? target[p - 1] : null}); } });
    st.doc.move = moves;
  }

  // ---- screenshot geometry (CSS pixels of the screenshot) ----
  function cssSize(b) { return {w: b.image_size[0] / st.scale, h: b.image_size[1] / st.scale}; }
  function pct(el, r, size) {
    el.style.left = (100 * r.x / size.w) + "%";
    el.style.top = (100 * r.y / size.h) + "%";
    el.style.width = (100 * r.width / size.w) + "%";
    el.style.height = (100 * r.height / size.h) + "%";
  }
  function zoomRegion(box, size) {
    var aspect = size.w / size.h;
    var w = Math.max(box.width + 2 * ZOOM_CONTEXT, size.w * ZOOM_MIN);
    var h = Math.max(box.height + 2 * ZOOM_CONTEXT, w / aspect);
    w = Math.min(Math.max(w, h * aspect), size.w); h = Math.min(h, size.h);
    var cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    return {x: Math.min(Math.max(0, cx - w / 2), size.w - w), y: Math.min(Math.max(0, cy - h / 2), size.h - h), width: w, height: h};
  }
  function region(id, b) {
    var e = stepEdit(id), t = (st.tools[id] || {}).target;
    if (e.crop) { return e.crop; }
    if (e.zoom && t) { return zoomRegion(t, cssSize(b)); }
    return null;
  }
  function clampRect(r, size) {
    var x = Math.max(0, r.x), y = Math.max(0, r.y);
    var w = Math.min(r.width - (x - r.x), size.w - x), h = Math.min(r.height - (y - r.y), size.h - y);
    return {x: Math.round(x), y: Math.round(y), width: Math.max(1, Math.floor(w)), height: Math.max(1, Math.floor(h))};
  }
  function padded(box, size) { return clampRect({x: box.x - PAD, y: box.y - PAD, width: box.width + 2 * PAD, height: box.height + 2 * PAD}, size); }
  function overlap(a, b) {
    var w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x), h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
    return Math.max(w, 0) * Math.max(h, 0);
  }
  function controlUnder(id, r) {  // the control a blur covers (as composer/anchors.py ties it)
    var best = null, share = 0;
    ((st.tools[id] || {}).controls || []).forEach(function (c) {
      var s = overlap(r, c.box) / Math.max(r.width * r.height, 1);
      if (s > share) { best = c; share = s; }
    });
    return share >= 0.5 ? best : null;
  }
  function controlAt(id, p) {
    var hits = ((st.tools[id] || {}).controls || []).filter(function (c) {
      return p.x >= c.box.x && p.x <= c.box.x + c.box.width && p.y >= c.box.y && p.y <= c.box.y + c.box.height;
    });
    hits.sort(function (a, b) { return a.box.width * a.box.height - b.box.width * b.box.height; });
    return hits[0] || null;
  }
  function elsewhere(id, c) {  // other steps whose screenshot shows the same control
    return order().filter(function (o) {
      return o !== id && ((st.tools[o] || {}).controls || []).some(function (x) { return x.kind === c.kind && x.name === c.name; });
    });
  }
  function hasBlur(id, r) {
    return (stepEdit(id).blur || []).some(function (x) { return overlap(x, r) > 0.8 * r.width * r.height; });
  }
  function blurControl(id, c) {
    var b = baseStep(id), mine = ((st.tools[id] || {}).controls || []).find(function (x) { return x.kind === c.kind && x.name === c.name; });
    if (!b || !b.image_size || !mine) { return false; }
    var r = padded(mine.box, cssSize(b));
    if (hasBlur(id, r)) { return false; }
    var e = edit(id); e.blur = (e.blur || []).concat([r]);
    return true;
  }

  // ---- rendering ----
  function editable(el, html, onInput, opts) {
    opts = opts || {};
    el.contentEditable = "true";
    el.classList.add("editable");
    el.setAttribute("role", "textbox");
    el.spellcheck = true;
    el.innerHTML = html;
    el.addEventListener("input", function () { onInput(toMarkup(el, !opts.plain)); });
    el.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { ev.preventDefault(); el.blur(); }
      if (opts.plain && (ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "b") { ev.preventDefault(); }
    });
    el.addEventListener("paste", function (ev) {
      ev.preventDefault();
      var text = (ev.clipboardData || window.clipboardData).getData("text/plain").replace(/\s+/g, " ");
      document.execCommand("insertText", false, text);
    });
    if (opts.plain) { el.dataset.plain = "1"; }
    return el;
  }
  function numbering(o) {
    var merged = {}, splits = {}, n = 0, out = {};
    (st.doc.merge || []).forEach(function (m) { merged[m.second] = m.first; });
    (st.doc.split || []).forEach(function (s) { splits[s.step] = s.texts.length; });
    o.forEach(function (id) {
      if (stepEdit(id).hidden) { out[id] = null; return; }
      if (merged[id]) { out[id] = n || 1; return; }
      out[id] = n + 1; n += splits[id] || 1;
      insertsAfter(id).forEach(function (f) { n += 1; out["free:" + f.id] = n; });
    });
    return {numbers: out, count: n, merged: merged};
  }
  function insertsAfter(id) { return (st.doc.insert || []).filter(function (f) { return f.after === id; }); }
  function renderHeader(count) {
    var title = document.getElementById("title-edit"), intro = document.getElementById("intro-edit"), outro = document.getElementById("outro-edit");
    document.getElementById("step-count").textContent = String(count);
    if (document.activeElement !== title) { title.textContent = st.doc.title || st.base.title; }
    if (document.activeElement !== intro) { intro.innerHTML = toHtml(st.doc.intro || st.base.intro); }
    if (document.activeElement !== outro) { outro.innerHTML = toHtml(st.doc.outro || st.base.outro); }
  }
  function render() {
    renderVoice();
    renderLexicon();
    var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("[data-step-id]");
    var focusAct = focused && document.activeElement.dataset.act;
    var focusId = focused && focused.dataset.stepId;
    list.textContent = "";
    var o = order(), num = numbering(o);
    renderHeader(num.count);
    o.forEach(function (id) {
      var b = baseStep(id);
      if (b.section && !stepEdit(id).hidden) {
        var sec = document.createElement("li"); sec.className = "section guide-section";
        var h = document.createElement("h2"); h.innerHTML = toHtml(b.section); sec.appendChild(h); list.appendChild(sec);
      }
      list.appendChild(renderStep(id, b, num));
      insertsAfter(id).forEach(function (f) { list.appendChild(renderFree(f, num.numbers["free:" + f.id])); });
    });
    if (focusId && focusAct) {
      var again = list.querySelector('[data-step-id="' + CSS.escape(focusId) + '"] [data-act="' + focusAct + '"]');
      if (again) { again.focus(); }
    }
    renderAttention();
  }
  function renderStep(id, b, num) {
    var e = stepEdit(id), li = tpl.content.firstElementChild.cloneNode(true), n = num.numbers[id];
    var split = (st.doc.split || []).find(function (s) { return s.step === id; });
    var mergedInto = num.merged[id], mergesNext = (st.doc.merge || []).some(function (m) { return m.first === id; });
    li.dataset.stepId = id;
    li.id = "edit-" + id;
    li.classList.toggle("is-hidden", !!e.hidden);
    li.classList.toggle("is-merged", !!mergedInto);
    li.querySelector(".num").textContent = e.hidden ? "–" : String(n);
    li.setAttribute("aria-label", e.hidden ? "Hidden step" : "Step " + n);
    var texts = li.querySelector(".texts");
    if (split) {
      split.texts.forEach(function (t, k) {
        var p = document.createElement("p"); p.className = "text split-part";
        editable(p, toHtml(t), function (m) { if (m) { split.texts[k] = m; typed("split:" + id + ":" + k); } });
        p.setAttribute("aria-label", "Text of step " + (n + k));
        texts.appendChild(p);
      });
    } else {
      var p = document.createElement("p"); p.className = "text";
      editable(p, toHtml(e.text || b.text), function (m) {
        edit(id).text = m && m !== b.text ? m : null; tidy(); typed("text:" + id);
      });
      p.setAttribute("aria-label", "Text of step " + n);
      texts.appendChild(p);
    }
    li.querySelector('[data-act="hide"]').textContent = e.hidden ? "Show" : "Hide";
    li.querySelector('[data-act="merge"]').textContent = mergesNext ? "Undo merge" : "Merge with next";
    li.querySelector('[data-act="split"]').textContent = split ? "Undo split" : "Split";
    var note = li.querySelector(".edit-note"), notes = [];
    if (e.hidden) { notes.push("Hidden: learners do not see this step."); }
    if (mergedInto) { notes.push("Merged into the step above: learners see the two as one step."); }
    if (split) { notes.push("Split: learners see " + split.texts.length + " steps here."); }
    if (notes.length) { note.textContent = notes.join(" "); note.hidden = false; }
    if (b.is_new) { li.classList.add("is-new"); }
    renderCallouts(li, id, b, e);
    renderShot(li, id, b, e);
    var nar = li.querySelector(".narration-text");
    nar.value = e.narration || "";
    nar.addEventListener("input", function () { edit(id).narration = nar.value.trim() ? nar.value : null; tidy(); typed("narration:" + id); });
    li.querySelector(".step-toolbar").addEventListener("click", function (ev) { act(ev, id, li); });
    li.querySelector(".shot-tools").addEventListener("click", function (ev) { act(ev, id, li); });
    li.querySelector('[data-act="voice"]').addEventListener("click", function (ev) { act(ev, id, li); });
    dragging(li, id);
    return li;
  }
  function renderFree(f, n) {
    var li = document.createElement("li"); li.className = "step edit-step is-free"; li.dataset.freeId = f.id;
    var head = document.createElement("div"); head.className = "step-head";
    var num = document.createElement("span"); num.className = "num"; num.textContent = String(n); head.appendChild(num);
    var p = document.createElement("p"); p.className = "text";
    editable(p, toHtml(f.text), function (m) { if (m) { f.text = m; typed("free:" + f.id); } });
    head.appendChild(p); li.appendChild(head);
    var rm = document.createElement("button"); rm.type = "button"; rm.textContent = "Remove this step";
    rm.addEventListener("click", function () {
      st.doc.insert = (st.doc.insert || []).filter(function (x) { return x.id !== f.id; }); changed(true);
    });
    var bar = document.createElement("div"); bar.className = "step-toolbar"; bar.appendChild(rm); li.insertBefore(bar, head);
    return li;
  }
  function renderCallouts(li, id, b, e) {
    var box = li.querySelector(".callouts"), own = e.callouts || [];
    var notes = e.drop_notes ? [] : (b.callouts || []);
    notes.forEach(function (c) {
      var a = document.createElement("aside"); a.className = "callout " + c.kind;
      a.innerHTML = "<strong></strong> <span class='callout-text'></span> ";
      a.querySelector("strong").textContent = c.kind.charAt(0).toUpperCase() + c.kind.slice(1) + ":";
      a.querySelector(".callout-text").textContent = c.text;
      var rm = document.createElement("button"); rm.type = "button"; rm.className = "link"; rm.textContent = "Remove the recorded notes";
      rm.addEventListener("click", function () { edit(id).drop_notes = true; changed(true, li); });
      a.appendChild(rm); box.appendChild(a);
    });
    own.forEach(function (c, k) {
      var a = document.createElement("aside"); a.className = "callout " + c.kind;
      var kind = document.createElement("select"); kind.className = "callout-kind"; kind.setAttribute("aria-label", "Kind of note");
      ["tip", "note", "warning"].forEach(function (x) { var o = document.createElement("option"); o.value = x; o.textContent = x.charAt(0).toUpperCase() + x.slice(1); kind.appendChild(o); });
      kind.value = c.kind;
      kind.addEventListener("change", function () { edit(id).callouts[k].kind = kind.value; changed(true); });
      var t = document.createElement("span"); t.className = "callout-text";
      editable(t, escapeHtml(c.text), function (m) { if (m) { edit(id).callouts[k].text = m; typed("callout:" + id + ":" + k); } }, {plain: true});
      t.setAttribute("aria-label", "Note text");
      var rm = document.createElement("button"); rm.type = "button"; rm.className = "link"; rm.textContent = "Remove";
      rm.addEventListener("click", function () { edit(id).callouts.splice(k, 1); changed(true, li); });
      a.appendChild(kind); a.appendChild(document.createTextNode(" ")); a.appendChild(t); a.appendChild(document.createTextNode(" ")); a.appendChild(rm);
      box.appendChild(a);
    });
  }
  function renderShot(li, id, b, e) {
    var fig = li.querySelector(".shot"), tools = li.querySelector(".shot-tools");
    if (!b.image || !b.image_size) { fig.remove(); tools.remove(); return; }
    var size = cssSize(b), img = fig.querySelector("img"), frame = fig.querySelector(".frame");
    img.src = "/guides/" + gid + "/base/" + b.image;
    img.width = b.image_size[0]; img.height = b.image_size[1];
    img.alt = "Screenshot of this step";
    var name = "mode-" + id;
    tools.querySelectorAll(".draw-mode").forEach(function (r) { r.name = name; r.checked = r.value === (st.mode && st.mode[id] || "blur"); });
    var mode = (st.mode && st.mode[id]) || "blur";
    var zoom = tools.querySelector(".zoom-toggle");
    zoom.checked = !!e.zoom;
    zoom.disabled = !(st.tools[id] || {}).target;
    zoom.addEventListener("change", function () {
      var x = edit(id); x.zoom = zoom.checked; if (zoom.checked) { x.crop = null; } st.full[id] = false; changed(true, li);
    });
    tools.querySelectorAll(".draw-mode").forEach(function (r) {
      r.addEventListener("change", function () { st.mode = st.mode || {}; st.mode[id] = r.value; render(); });
    });
    var reg = region(id, b), full = st.full[id] || mode === "crop";
    var fullBtn = tools.querySelector(".full-toggle");
    fullBtn.hidden = !reg;
    fullBtn.textContent = st.full[id] ? "Show what learners see" : "Show the full screenshot";
    var canvas = frame;  // img and boxes share one coordinate system
    if (reg && !full) {
      fig.classList.add("cropped");
      frame.style.aspectRatio = reg.width + " / " + reg.height;
      var inner = document.createElement("div"); inner.className = "canvas";
      inner.style.width = (100 * size.w / reg.width) + "%";
      inner.style.left = (-100 * reg.x / reg.width) + "%";
      inner.style.top = (-100 * reg.y / reg.height) + "%";
      inner.appendChild(img); inner.appendChild(fig.querySelector(".boxes"));
      frame.appendChild(inner); canvas = inner;
    }
    var boxes = canvas.querySelector(".boxes");
    (e.blur || []).forEach(function (r, k) {
      var pl = (st.placed[id] || []).find(function (p) { return same(rectOf(p.drawn), rectOf(r)); });
      var d = document.createElement("div"); d.className = "box blur"; pct(d, pl ? pl.box : r, size);
      var c = controlUnder(id, pl ? pl.box : r);
      d.title = c ? "Blurred: " + c.name : "Blurred area";
      if (pl && (pl.state === "lost" || pl.state === "moved")) {  // what a refresh did with it
        d.classList.add("state-" + pl.state);
        var tag = document.createElement("span"); tag.className = "blur-state";
        tag.textContent = pl.state === "lost" ? "“" + pl.name + "” is gone: check this blur" : "moved with “" + pl.name + "”";
        d.title = tag.textContent; d.appendChild(tag);
      }
      var x = document.createElement("button"); x.type = "button"; x.className = "box-remove"; x.textContent = "×";
      x.setAttribute("aria-label", "Remove this blur" + (c ? " (" + c.name + ")" : ""));
      x.addEventListener("pointerdown", function (ev) { ev.stopPropagation(); });
      x.addEventListener("click", function (ev) { ev.stopPropagation(); edit(id).blur.splice(k, 1); changed(true, li); });
      d.appendChild(x); boxes.appendChild(d);
    });
    if (e.crop && full) { var cr = document.createElement("div"); cr.className = "box crop"; pct(cr, e.crop, size); boxes.appendChild(cr); }
    else if (reg && full) { var zr = document.createElement("div"); zr.className = "box crop zoom"; pct(zr, reg, size); boxes.appendChild(zr); }
    var pending = st.applyAll[id];
    var apply = tools.querySelector(".apply-all");
    if (pending) {
      var others = elsewhere(id, pending).filter(function (o) { return !hasBlurOf(o, pending); });
      if (others.length) {
        apply.hidden = false;
        var btn = document.createElement("button"); btn.type = "button"; btn.className = "apply-all-btn";
        btn.textContent = "Blur “" + pending.name + "” on every screenshot where it appears (" + others.length + " more)";
        btn.addEventListener("click", function (ev) {
          ev.stopPropagation();
          var n = 0;
          others.forEach(function (o) { if (blurControl(o, pending)) { n++; } });
          delete st.applyAll[id];
          changed(true, li);
          say("Blurred “" + pending.name + "” on " + n + " more screenshot" + (n === 1 ? "" : "s") + "; saving…");
        });
        apply.appendChild(btn);
      }
    }
    drawing(li, id, canvas, size, mode);
  }
  function rectOf(r) { return {x: Math.round(r.x), y: Math.round(r.y), width: Math.round(r.width), height: Math.round(r.height)}; }
  function hasBlurOf(o, c) {
    var mine = ((st.tools[o] || {}).controls || []).find(function (x) { return x.kind === c.kind && x.name === c.name; });
    return !mine || (stepEdit(o).blur || []).some(function (r) { var u = controlUnder(o, r); return u && u.kind === c.kind && u.name === c.name; });
  }

  function drawing(li, id, canvas, size, mode) {
    var fig = li.querySelector(".shot"), start = null, ghost = null;
    function pt(ev) {
      var r = canvas.getBoundingClientRect(), f = size.w / r.width;
      return {x: Math.min(size.w, Math.max(0, (ev.clientX - r.left) * f)), y: Math.min(size.h, Math.max(0, (ev.clientY - r.top) * f))};
    }
    function rect(a, b) {
      return {x: Math.round(Math.min(a.x, b.x)), y: Math.round(Math.min(a.y, b.y)),
              width: Math.round(Math.abs(a.x - b.x)), height: Math.round(Math.abs(a.y - b.y))};
    }
    fig.classList.toggle("mode-crop", mode === "crop");
    fig.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) { return; }
      ev.preventDefault(); start = pt(ev); fig.setPointerCapture(ev.pointerId);
      ghost = document.createElement("div"); ghost.className = "box ghost"; canvas.querySelector(".boxes").appendChild(ghost);
    });
    fig.addEventListener("pointermove", function (ev) {
      if (start) { pct(ghost, rect(start, pt(ev)), size); }
      else if (mode === "blur") {
        var c = controlAt(id, pt(ev));
        fig.title = c ? "Click to blur “" + c.name + "”" : "Drag to draw a blur box";
      }
    });
    fig.addEventListener("pointerup", function (ev) {
      if (!start) { return; }
      var r = rect(start, pt(ev)), e;
      start = null; ghost.remove();
      if (r.width < 4 || r.height < 4) {  // a click: the element under it
        if (mode !== "blur") { return; }
        var c = controlAt(id, {x: r.x, y: r.y});
        if (!c) { say("Nothing to blur there: click a field, button or menu item, or drag a box."); return; }
        if (!blurControl(id, c)) { say("“" + c.name + "” is blurred already."); return; }
        st.applyAll[id] = {kind: c.kind, name: c.name};
        changed(true, li);
        return;
      }
      e = edit(id);
      if (mode === "crop") { e.crop = clampRect(r, size); e.zoom = false; st.full[id] = false; st.mode[id] = "blur"; }
      else {
        e.blur = (e.blur || []).concat([clampRect(r, size)]);
        var under = controlUnder(id, r);
        if (under) { st.applyAll[id] = {kind: under.kind, name: under.name}; }
      }
      changed(true, li);
    });
  }

  function dragging(li, id) {
    var handle = li.querySelector('[data-act="drag"]');
    handle.setAttribute("aria-label", "Move this step (arrow keys)");
    handle.addEventListener("dragstart", function (ev) {
      st.dragId = id; ev.dataTransfer.effectAllowed = "move"; ev.dataTransfer.setData("text/plain", id);
      ev.dataTransfer.setDragImage(li, 20, 20);
      li.classList.add("dragging");
    });
    handle.addEventListener("dragend", function () { li.classList.remove("dragging"); st.dragId = null; clearDrop(); });
    handle.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowUp" || ev.key === "ArrowDown") { ev.preventDefault(); move(id, ev.key === "ArrowUp" ? -1 : 1, li); }
    });
    li.addEventListener("dragover", function (ev) {
      if (!st.dragId || st.dragId === id) { return; }
      ev.preventDefault(); ev.dataTransfer.dropEffect = "move";
      var r = li.getBoundingClientRect(), after = ev.clientY > r.top + r.height / 2;
      clearDrop(); li.classList.add(after ? "drop-after" : "drop-before");
    });
    li.addEventListener("drop", function (ev) {
      if (!st.dragId || st.dragId === id) { return; }
      ev.preventDefault();
      var r = li.getBoundingClientRect(), after = ev.clientY > r.top + r.height / 2, moving = st.dragId;
      var o = order().filter(function (x) { return x !== moving; }), at = o.indexOf(id) + (after ? 1 : 0);
      o.splice(at, 0, moving); setOrder(o); st.dragId = null; clearDrop();
      changed(true);
      say("Moved; saving…");
    });
  }
  function clearDrop() { list.querySelectorAll(".drop-before, .drop-after").forEach(function (x) { x.classList.remove("drop-before", "drop-after"); }); }
  function move(id, d, li) {
    var o = order(), i = o.indexOf(id), j = i + d;
    if (j < 0 || j >= o.length) { return; }
    o[i] = o[j]; o[j] = id; setOrder(o); changed(true, li);
  }

  function halves(text) {  // one sentence: cut at the space nearest the middle that is outside **bold**
    var best = -1, inside = false;
    for (var i = 0; i < text.length; i++) {
      if (text.substr(i, 2) === "**") { inside = !inside; i++; continue; }
      if (text[i] === " " && !inside && (best < 0 || Math.abs(i - text.length / 2) < Math.abs(best - text.length / 2))) { best = i; }
    }
    return best > 0 ? [text.slice(0, best), text.slice(best + 1)] : [];
  }
  function act(ev, id, li) {
    var t = ev.target.closest("[data-act]"), a = t && t.dataset.act;
    if (!a || a === "drag") { return; }
    var o = order(), i = o.indexOf(id), e = edit(id);
    if (a === "up" || a === "down") { move(id, a === "up" ? -1 : 1, li); return; }
    else if (a === "hide") { e.hidden = !e.hidden; }
    else if (a === "merge") {
      st.doc.merge = st.doc.merge || [];
      var k = st.doc.merge.findIndex(function (m) { return m.first === id; });
      if (k >= 0) { st.doc.merge.splice(k, 1); }
      else if (i + 1 < o.length) { st.doc.merge.push({first: id, second: o[i + 1]}); }
    } else if (a === "split") {
      st.doc.split = st.doc.split || [];
      var s = st.doc.split.findIndex(function (x) { return x.step === id; });
      if (s >= 0) { st.doc.split.splice(s, 1); }
      else {
        var parts = (e.text || baseStep(id).text).split(/(?<=[.!?])\s+/).filter(Boolean);
        if (parts.length < 2) { parts = halves(e.text || baseStep(id).text); }
        if (parts.length < 2) { say("This step's text is too short to split."); return; }
        st.doc.split.push({step: id, texts: parts});
      }
    } else if (a === "note") {
      e.callouts = (e.callouts || []).concat([{kind: "tip", text: "Write your note here."}]);
      changed(true, li);
      var fresh = list.querySelector('[data-step-id="' + CSS.escape(id) + '"] .callouts .callout:last-child .callout-text');
      if (fresh) { fresh.focus(); document.getSelection().selectAllChildren(fresh); }
      return;
    } else if (a === "clear-boxes") { e.blur = []; e.crop = null; e.zoom = false; delete st.applyAll[id]; }
    else if (a === "full") { st.full[id] = !st.full[id]; render(); return; }
    else if (a === "voice") { voice(id, li); return; }
    else { return; }
    changed(true, li);
  }

  function voice(id, li) {
    var e = stepEdit(id), text = e.narration || e.text || baseStep(id).text;
    var audio = li.querySelector("audio.voice");
    gc.api("POST", "/api/guides/" + gid + "/voice-preview", {text: plainOf(text), pronunciations: st.doc.pronunciations || {},
                                                               voice: st.doc.voice || null, rate: st.doc.rate || null}).then(function (r) {
      if (!r.ok) { throw new Error("The voice preview did not work (" + r.status + ")."); }
      return r.blob();
    }).then(function (blob) {
      audio.src = URL.createObjectURL(blob); audio.hidden = false; audio.play().catch(function () {});
    }).catch(function (err) { say(err.message); });
  }

  // ---- needs your attention ----
  function renderAttention() {
    var ul = document.querySelector(".attention-items");
    if (!ul) { return; }
    ul.querySelectorAll(".attention-item").forEach(function (li) {
      var it = st.attention[+li.dataset.index];
      if (!it) { return; }
      var add = li.querySelector('[data-fix="add"]'), rm = li.querySelector('[data-fix="remove"]');
      if (add) { add.hidden = (st.doc.insert || []).some(function (f) { return f.text === it.fix.add_step.text && f.after === it.fix.add_step.after; }); }
      if (rm) { rm.hidden = !hasEdit(it.fix.remove_edit.path); }
    });
  }
  function hasEdit(path) {
    var m = path.match(/^steps\.(.+)\.([a-z_]+)$/);
    if (m) { return stepEdit(m[1])[m[2]] !== undefined; }
    m = path.match(/^(merge|split|move|insert)\[(\d+)\]$/);
    return !!(m && st.doc[m[1]] && st.doc[m[1]][+m[2]]);
  }
  function openItems() {
    return Array.prototype.filter.call(document.querySelectorAll(".attention-item"), function (li) {
      return !li.querySelector(".attention-done").checked;
    }).length;
  }
  document.addEventListener("click", function (ev) {
    var li = ev.target.closest && ev.target.closest(".attention-item");
    if (!li || !ev.target.closest("button")) { return; }
    var it = st.attention[+li.dataset.index], btn = ev.target.closest("button");
    if (btn.classList.contains("attention-go")) {
      var step = document.getElementById("edit-" + it.step);
      if (step) { step.scrollIntoView({block: "start"}); step.classList.add("flash"); var tx = step.querySelector(".text"); if (tx) { tx.focus(); } }
      return;
    }
    if (btn.dataset.fix === "add") {
      var used = {}; (st.doc.insert || []).forEach(function (f) { used[f.id] = true; });
      var n = 1; while (used["added-step-" + n]) { n++; }
      st.doc.insert = (st.doc.insert || []).concat([{id: "added-step-" + n, after: it.fix.add_step.after, text: it.fix.add_step.text}]);
    } else if (btn.dataset.fix === "remove") {
      var p = it.fix.remove_edit.path, m = p.match(/^steps\.(.+)\.([a-z_]+)$/);
      if (m) { if (st.doc.steps && st.doc.steps[m[1]]) { delete st.doc.steps[m[1]][m[2]]; } }
      else if ((m = p.match(/^(merge|split|move|insert)\[(\d+)\]$/))) { st.doc[m[1]].splice(+m[2], 1); }
    }
    li.querySelector(".attention-done").checked = true;
    changed(true);
  });

  // ---- saving ----
  function typed(kind) { snapshot(kind); schedule(); renderAttention(); }
  function changed(structural, anchor) {
    tidy();
    snapshot(null);
    if (structural) {
      var id = anchor && anchor.dataset && anchor.dataset.stepId, top = anchor ? anchor.getBoundingClientRect().top : 0;
      render();
      if (id) {  // keep the step the person acted on where it was on screen (hiding one does not jump)
        var again = list.querySelector('[data-step-id="' + CSS.escape(id) + '"]');
        if (again) { window.scrollBy(0, again.getBoundingClientRect().top - top); }
      }
    }
    schedule();
  }
  function schedule() {
    say("Unsaved changes…");
    clearTimeout(st.timer);
    st.timer = setTimeout(save, 600);
  }
  function merge3(base, mine, theirs) {
    var out = clone(theirs), conflicts = [];
    ["title", "intro", "outro", "merge", "split", "move", "insert", "pronunciations", "voice", "rate"].forEach(function (k) {
      if (!same(mine[k], base[k])) {
        if (!same(theirs[k], base[k]) && !same(theirs[k], mine[k])) { conflicts.push(k); }
        if (mine[k] === undefined) { delete out[k]; } else { out[k] = clone(mine[k]); }
      }
    });
    var ids = {}, bs = base.steps || {}, ms = mine.steps || {}, ts = theirs.steps || {};
    Object.keys(bs).concat(Object.keys(ms)).forEach(function (id) { ids[id] = true; });
    Object.keys(ids).forEach(function (id) {
      var b = bs[id] || {}, m = ms[id] || {}, t = ts[id] || {}, fields = {};
      Object.keys(b).concat(Object.keys(m)).forEach(function (f) { fields[f] = true; });
      Object.keys(fields).forEach(function (f) {
        if (same(m[f], b[f])) { return; }
        if (!same(t[f], b[f]) && !same(t[f], m[f])) { conflicts.push(describe(id, f)); }
        out.steps = out.steps || {}; out.steps[id] = out.steps[id] || {};
        if (m[f] === undefined) { delete out.steps[id][f]; } else { out.steps[id][f] = clone(m[f]); }
      });
    });
    return {doc: out, conflicts: conflicts};
  }
  var WORDS = {text: "text", narration: "narration", callouts: "notes", hidden: "hiding", crop: "crop", zoom: "zoom",
               blur: "blurs", marker: "click marker", drop_notes: "notes", title: "title", intro: "introduction",
               outro: "ending", merge: "merged steps", split: "split steps", move: "step order", insert: "added steps",
               pronunciations: "pronunciations", voice: "voice", rate: "speed"};
  function describe(id, f) {
    var n = numbering(order()).numbers[id];
    return "the " + (WORDS[f] || f) + " of " + (n ? "step " + n : "a hidden step");
  }
  function save() {
    if (st.saving) { return st.inflight.then(save); }
    if (same(st.doc, st.saved)) { say("All changes saved"); return Promise.resolve(); }
    st.saving = true;
    say("Saving…");
    var sent = clone(st.doc);
    st.inflight = gc.api("PUT", "/api/guides/" + gid + "/edits", {base_revision: st.revision, edits: sent}).then(function (r) {
      return r.json().then(function (body) { return {status: r.status, body: body}; });
    }).then(function (res) {
      st.saving = false;
      if (res.status === 200) {
        st.revision = res.body.revision; st.saved = res.body.edits;
        var clean = same(st.doc, sent);
        if (clean) { st.doc = clone(res.body.edits); }  // take the server's normal form
        say(clean ? "All changes saved" : "Unsaved changes…");
      } else if (res.status === 409) {
        var m = merge3(st.saved, st.doc, res.body.edits);
        st.revision = res.body.revision; st.saved = res.body.edits;
        st.doc = m.doc;  // their changes plus mine (mine where both changed the same thing)
        snapshot(null);
        render();
        if (m.conflicts.length) {
          document.getElementById("conflict-text").textContent = "Someone else saved changes to the same parts (" +
            m.conflicts.join(", ") + "). Their other changes are merged in; on screen is your version of those parts, not saved yet.";
          document.getElementById("conflict").hidden = false;
          st.pendingTheirs = res.body.edits;
          say("Not saved: someone else changed the same parts");
          return;
        }
        say("Merged with another editor's changes; saving…");
        return save();
      } else {
        var d = res.body.detail;
        say("Not saved: " + (typeof d === "string" ? d : Array.isArray(d) && d[0] && d[0].msg ? d[0].msg : "the server refused it (" + res.status + ")"));
      }
    }).catch(function () { st.saving = false; say("Not saved: the server did not answer; retrying…"); st.timer = setTimeout(save, 3000); });
    return st.inflight;
  }
  document.getElementById("keep-mine").addEventListener("click", function () {
    document.getElementById("conflict").hidden = true; save();
  });
  document.getElementById("take-theirs").addEventListener("click", function () {
    document.getElementById("conflict").hidden = true; st.doc = clone(st.pendingTheirs); snapshot(null); render(); save();
  });

  // ---- title, intro, ending; the voice ----
  editable(document.getElementById("title-edit"), "", function (m) {
    st.doc.title = m && m !== st.base.title ? m : undefined; tidy(); typed("title");
  }, {plain: true});
  editable(document.getElementById("intro-edit"), "", function (m) {
    st.doc.intro = m && m !== st.base.intro ? m : undefined; tidy(); typed("intro");
  });
  editable(document.getElementById("outro-edit"), "", function (m) {
    st.doc.outro = m && m !== st.base.outro ? m : undefined; tidy(); typed("outro");
  });
  function renderLexicon() {
    var ul = document.getElementById("lexicon-list"), lex = st.doc.pronunciations || {};
    ul.textContent = "";
    Object.keys(lex).forEach(function (name) {
      var li = document.createElement("li");
      li.dataset.name = name;
      li.appendChild(document.createTextNode(name + " → " + lex[name] + " "));
      var rm = document.createElement("button"); rm.type = "button"; rm.textContent = "Remove";
      rm.setAttribute("aria-label", "Remove the pronunciation of " + name);
      rm.addEventListener("click", function () { delete st.doc.pronunciations[name]; changed(true); });
      li.appendChild(rm); ul.appendChild(li);
    });
  }
  function renderVoice() {
    var sel = document.getElementById("voice-select"), rate = document.getElementById("rate-input");
    if (st.doc.voice && !sel.querySelector('option[value="' + CSS.escape(st.doc.voice) + '"]')) {
      var o = document.createElement("option"); o.value = st.doc.voice; o.textContent = st.doc.voice; sel.appendChild(o);
    }
    sel.value = st.doc.voice || "";
    if (document.activeElement !== rate) { rate.value = st.doc.rate || ""; }
  }
  function loadVoices() {
    return gc.api("GET", "/api/voices").then(function (r) { return r.ok ? r.json() : []; }).then(function (voices) {
      var sel = document.getElementById("voice-select"), groups = {};
      voices.forEach(function (v) {
        var label = v.engine === "piper" ? "Neural voices" : v.engine === "pyttsx3" ? "espeak-ng voices" : "Voices";
        if (!groups[label]) { groups[label] = document.createElement("optgroup"); groups[label].label = label; sel.appendChild(groups[label]); }
        var o = document.createElement("option"); o.value = v.id;
        o.textContent = v.name + (v.language ? " · " + v.language : "") + (v.quality ? " · " + v.quality : "");
        groups[label].appendChild(o);
      });
    });
  }
  document.getElementById("voice-select").addEventListener("change", function (ev) {
    st.doc.voice = ev.target.value || undefined; tidy(); snapshot(null); schedule();
  });
  document.getElementById("rate-input").addEventListener("input", function (ev) {
    var n = parseInt(ev.target.value, 10);
    st.doc.rate = n >= 60 && n <= 450 ? n : undefined; tidy(); typed("rate");
  });
  document.getElementById("lexicon-add").addEventListener("click", function () {
    var name = document.getElementById("lexicon-name"), sayAs = document.getElementById("lexicon-say");
    if (!name.value.trim() || !sayAs.value.trim()) { say("A pronunciation needs a name and how to say it."); return; }
    st.doc.pronunciations = st.doc.pronunciations || {};
    st.doc.pronunciations[name.value.trim()] = sayAs.value.trim();
    name.value = ""; sayAs.value = "";
    changed(true);
  });

  // ---- keyboard and toolbar ----
  function bold() {
    var el = document.activeElement;
    if (!el || !el.isContentEditable || el.dataset.plain) { say("Bold works in step text, the introduction and the ending: select words first."); return; }
    document.execCommand("bold");
  }
  document.getElementById("bold").addEventListener("mousedown", function (ev) { ev.preventDefault(); });  // keep the selection
  document.getElementById("bold").addEventListener("click", bold);
  document.getElementById("undo").addEventListener("click", function () { travel(-1); });
  document.getElementById("redo").addEventListener("click", function () { travel(1); });
  document.addEventListener("keydown", function (ev) {
    if (!(ev.ctrlKey || ev.metaKey) || ev.altKey) { return; }
    var k = ev.key.toLowerCase();
    if (k === "z" || k === "y") {
      if (ev.target.tagName === "INPUT" || ev.target.tagName === "TEXTAREA") { return; }
      ev.preventDefault(); travel(k === "y" || ev.shiftKey ? 1 : -1);
    } else if (k === "b" && ev.target.isContentEditable) { ev.preventDefault(); if (!ev.target.dataset.plain) { bold(); } }
  }, true);
  window.addEventListener("beforeunload", function (e) { if (!same(st.doc, st.saved)) { e.preventDefault(); } });

  // ---- publish ----
  function doPublish() {
    var out = document.getElementById("publish-state");
    clearTimeout(st.timer);
    return save().then(function () {
      if (!same(st.doc, st.saved)) { out.textContent = "Save your changes first."; return; }
      out.textContent = "Publishing…";
      return gc.api("POST", "/api/guides/" + gid + "/publish", {revision: st.revision}).then(function (r) { return r.json(); })
        .then(function (job) {
          if (!job.id) { out.textContent = "Not published: " + job.detail; return; }
          return gc.followJob(job.id, function (j) { out.textContent = "Publishing: " + j.what; }).then(function (j) {
            out.textContent = j.state === "done" ? "Published version " + j.result.version + "; the video is rendering."
              : "Publishing " + j.state + ": " + (j.error || "");
            out.dataset.version = j.state === "done" ? j.result.version : "";
          });
        });
    });
  }
  var confirmBox = document.getElementById("publish-confirm");
  document.getElementById("publish").addEventListener("click", function () {
    var n = openItems();
    if (!n) { doPublish(); return; }
    document.getElementById("publish-confirm-text").textContent = (n === 1 ? "One item" : n + " items") +
      " in “Needs your attention” " + (n === 1 ? "is" : "are") + " not ticked yet. Learners will see the guide as it is now.";
    confirmBox.showModal();
  });
  document.getElementById("publish-anyway").addEventListener("click", function () { confirmBox.close(); doPublish(); });
  document.getElementById("publish-cancel").addEventListener("click", function () {
    confirmBox.close();
    var first = Array.prototype.find.call(document.querySelectorAll(".attention-item"), function (li) { return !li.querySelector(".attention-done").checked; });
    if (first) { first.scrollIntoView({block: "center"}); first.querySelector(".attention-done").focus(); }
  });

  gc.api("GET", "/api/guides/" + gid + "/edits").then(function (r) { return r.json(); }).then(function (s) {
    if (!s.base) { say("The guide is still being composed; reload in a moment."); return; }
    st.revision = s.revision; st.saved = s.edits; st.doc = clone(s.edits); st.base = s.base; st.scale = s.device_scale || 1;
    st.tools = s.tools || {}; st.placed = s.placed || {}; st.attention = (s.attention || {}).items || []; st.mode = {};
    return loadVoices().then(function () { return s; });
  }).then(function (s) {
    if (!s) { return; }
    snapshot(null);
    render();
    say("All changes saved");
    root.dataset.ready = "1";
  });
})();
