// The guide editor: edits the JSON edit document (composer.edits.EditSet shape) and autosaves it with
// the revision it was based on. A stale save gets 409 and the current document: non-overlapping
// changes are merged and saved again; overlapping ones are shown to the user. Nothing is overwritten.
"use strict";
(function () {
  var root = document.getElementById("editor");
  if (!root) { return; }
  var gid = root.dataset.guideId;
  var st = {revision: 0, saved: {}, doc: {}, base: null, scale: 1, timer: null, saving: false, inflight: null};
  var saveState = document.getElementById("save-state");
  var list = document.getElementById("steps");
  var tpl = document.getElementById("step-template");

  function clone(o) { return JSON.parse(JSON.stringify(o)); }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function baseStep(id) { return st.base.steps.find(function (s) { return s.id === id; }); }
  function edit(id) { st.doc.steps = st.doc.steps || {}; st.doc.steps[id] = st.doc.steps[id] || {}; return st.doc.steps[id]; }
  function tidy() {
    var steps = st.doc.steps || {};
    Object.keys(steps).forEach(function (id) {
      var e = steps[id];
      Object.keys(e).forEach(function (k) {
        var v = e[k];
        if (v === null || v === false || v === "" || (Array.isArray(v) && !v.length)) { delete e[k]; }
      });
      if (!Object.keys(e).length) { delete steps[id]; }
    });
    ["merge", "split", "move"].forEach(function (k) { if (st.doc[k] && !st.doc[k].length) { delete st.doc[k]; } });
    if (st.doc.steps && !Object.keys(st.doc.steps).length) { delete st.doc.steps; }
    if (st.doc.pronunciations && !Object.keys(st.doc.pronunciations).length) { delete st.doc.pronunciations; }
    ["voice", "rate"].forEach(function (k) { if (!st.doc[k]) { delete st.doc[k]; } });
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

  // ---- rendering ----
  function boxStyle(el, r, img) {
    var w = img.naturalWidth / st.scale, h = img.naturalHeight / st.scale;
    el.style.left = (100 * r.x / w) + "%";
    el.style.top = (100 * r.y / h) + "%";
    el.style.width = (100 * r.width / w) + "%";
    el.style.height = (100 * r.height / h) + "%";
  }
  function renderBoxes(li, id) {
    var e = (st.doc.steps || {})[id] || {}, holder = li.querySelector(".boxes"), img = li.querySelector(".shot img");
    holder.textContent = "";
    if (!img.naturalWidth) { return; }
    (e.blur || []).forEach(function (r) {
      var d = document.createElement("div"); d.className = "box blur"; boxStyle(d, r, img); holder.appendChild(d);
    });
    if (e.crop) { var c = document.createElement("div"); c.className = "box crop"; boxStyle(c, e.crop, img); holder.appendChild(c); }
  }
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
        var label = v.engine === "piper" ? "Neural voices" : v.engine === "pyttsx3" ? "espeak-ng voices" : v.engine;
        if (!groups[label]) { groups[label] = document.createElement("optgroup"); groups[label].label = label; sel.appendChild(groups[label]); }
        var o = document.createElement("option"); o.value = v.id;
        o.textContent = v.name + (v.language ? " · " + v.language : "") + (v.quality ? " · " + v.quality : "");
        groups[label].appendChild(o);
      });
    });
  }
  function render() {
    renderVoice();
    renderLexicon();
    list.textContent = "";
    var titleInput = document.getElementById("title-input");
    if (document.activeElement !== titleInput) { titleInput.value = st.doc.title || st.base.title; }
    var merged = {}, splits = {};
    (st.doc.merge || []).forEach(function (m) { merged[m.second] = m.first; merged["first:" + m.first] = m.second; });
    (st.doc.split || []).forEach(function (s) { splits[s.step] = s.texts; });
    order().forEach(function (id, n) {
      var b = baseStep(id), e = (st.doc.steps || {})[id] || {};
      var li = tpl.content.firstElementChild.cloneNode(true);
      li.dataset.stepId = id;
      li.classList.toggle("is-hidden", !!e.hidden);
      li.querySelector(".num").textContent = String(n + 1);
      var ta = li.querySelector(".step-text");
      ta.value = e.text || b.text;
      ta.setAttribute("aria-label", "Text of step " + (n + 1));
      ta.addEventListener("input", function () {
        var x = edit(id); x.text = ta.value.trim() && ta.value !== b.text ? ta.value : null; changed(false);
      });
      li.querySelector('[data-act="hide"]').textContent = e.hidden ? "Show" : "Hide";
      li.querySelector('[data-act="merge"]').textContent = merged["first:" + id] ? "Undo merge" : "Merge with next";
      li.querySelector('[data-act="split"]').textContent = splits[id] ? "Undo split" : "Split";
      var notes = [];
      if (merged[id]) { notes.push("merged into the step before"); }
      if (splits[id]) { notes.push("split into: " + splits[id].join(" | ")); }
      if (notes.length) { var p = document.createElement("p"); p.className = "edit-note"; p.textContent = notes.join("; "); li.insertBefore(p, li.querySelector(".step-tools")); }
      if ((st.review || {})[id]) {
        li.classList.add("needs-review");
        var rv = document.createElement("p"); rv.className = "review-note"; rv.textContent = "Review: " + st.review[id];
        li.insertBefore(rv, li.querySelector(".step-tools"));
      }
      var ul = li.querySelector(".callouts");
      (e.callouts || []).forEach(function (c, k) {
        var item = document.createElement("li"); item.className = "callout " + c.kind;
        var strong = document.createElement("strong"); strong.textContent = c.kind + ": "; item.appendChild(strong);
        item.appendChild(document.createTextNode(c.text + " "));
        var rm = document.createElement("button"); rm.type = "button"; rm.textContent = "Remove";
        rm.addEventListener("click", function () { edit(id).callouts.splice(k, 1); changed(true); });
        item.appendChild(rm); ul.appendChild(item);
      });
      var nar = li.querySelector(".narration-text");
      nar.value = e.narration || "";
      nar.addEventListener("input", function () { edit(id).narration = nar.value.trim() ? nar.value : null; changed(false); });
      li.querySelectorAll(".draw-mode").forEach(function (r) { r.name = "mode-" + id; });
      var img = li.querySelector(".shot img");
      if (b.image) {
        img.src = "/guides/" + gid + "/base/" + b.image;
        img.alt = "Screenshot of step " + (n + 1) + "; drag to draw a box";
        img.addEventListener("load", function () { renderBoxes(li, id); });
        drawing(li, id, img);
      } else { li.querySelector(".shot").hidden = true; li.querySelector(".shot-tools").hidden = true; }
      li.querySelector(".step-tools").addEventListener("click", function (ev) { act(ev, id, li); });
      li.querySelector(".add-callout").addEventListener("click", function (ev) { act(ev, id, li); });
      li.querySelector('[data-act="voice"]').addEventListener("click", function (ev) { act(ev, id, li); });
      li.querySelector('[data-act="clear-boxes"]').addEventListener("click", function (ev) { act(ev, id, li); });
      list.appendChild(li);
    });
  }

  function act(ev, id, li) {
    var a = ev.target.dataset && ev.target.dataset.act;
    if (!a) { return; }
    var o = order(), i = o.indexOf(id), e = edit(id);
    if (a === "up" || a === "down") {
      var j = a === "up" ? i - 1 : i + 1;
      if (j < 0 || j >= o.length) { return; }
      o[i] = o[j]; o[j] = id; setOrder(o);
    } else if (a === "hide") { e.hidden = !e.hidden; }
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
        if (parts.length < 2) { saveState.textContent = "Split needs a step text of two sentences or more."; return; }
        st.doc.split.push({step: id, texts: parts});
      }
    } else if (a === "callout") {
      var text = li.querySelector(".callout-text").value.trim();
      if (!text) { return; }
      e.callouts = e.callouts || [];
      e.callouts.push({kind: li.querySelector(".callout-kind").value, text: text});
    } else if (a === "clear-boxes") { e.blur = []; e.crop = null; }
    else if (a === "voice") { voice(id, li); return; }
    changed(true);
  }

  function voice(id, li) {
    var e = (st.doc.steps || {})[id] || {}, text = e.narration || e.text || baseStep(id).text;
    var audio = li.querySelector("audio.voice");
    gc.api("POST", "/api/guides/" + gid + "/voice-preview", {text: text, pronunciations: st.doc.pronunciations || {},
                                                               voice: st.doc.voice || null, rate: st.doc.rate || null}).then(function (r) {
      if (!r.ok) { throw new Error("voice preview failed (" + r.status + ")"); }
      return r.blob();
    }).then(function (blob) {
      audio.src = URL.createObjectURL(blob); audio.hidden = false; audio.play().catch(function () {});
    }).catch(function (err) { saveState.textContent = err.message; });
  }

  function drawing(li, id, img) {
    var shot = li.querySelector(".shot"), start = null, ghost = null;
    function pt(ev) {
      var r = img.getBoundingClientRect(), f = img.naturalWidth / r.width / st.scale;
      return {x: Math.max(0, (ev.clientX - r.left) * f), y: Math.max(0, (ev.clientY - r.top) * f)};
    }
    function rect(a, b) {
      return {x: Math.round(Math.min(a.x, b.x)), y: Math.round(Math.min(a.y, b.y)),
              width: Math.round(Math.abs(a.x - b.x)), height: Math.round(Math.abs(a.y - b.y))};
    }
    shot.addEventListener("pointerdown", function (ev) {
      ev.preventDefault(); start = pt(ev); shot.setPointerCapture(ev.pointerId);
      ghost = document.createElement("div"); ghost.className = "box ghost"; li.querySelector(".boxes").appendChild(ghost);
    });
    shot.addEventListener("pointermove", function (ev) { if (start) { boxStyle(ghost, rect(start, pt(ev)), img); } });
    shot.addEventListener("pointerup", function (ev) {
      if (!start) { return; }
      var r = rect(start, pt(ev)); start = null;
      if (r.width < 4 || r.height < 4) { ghost.remove(); return; }
      var mode = li.querySelector(".draw-mode:checked").value, e = edit(id);
      if (mode === "crop") { e.crop = r; } else { e.blur = (e.blur || []).concat([r]); }
      changed(true);
    });
  }

  // ---- saving ----
  function changed(structural) {
    tidy();
    if (structural) { render(); }
    saveState.textContent = "Unsaved changes…";
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
        if (!same(t[f], b[f]) && !same(t[f], m[f])) { conflicts.push("step " + id + " " + f); }
        out.steps = out.steps || {}; out.steps[id] = out.steps[id] || {};
        if (m[f] === undefined) { delete out.steps[id][f]; } else { out.steps[id][f] = clone(m[f]); }
      });
    });
    return {doc: out, conflicts: conflicts};
  }
  function save() {
    if (st.saving) { return st.inflight.then(save); }
    if (same(st.doc, st.saved)) { saveState.textContent = "All changes saved (revision " + st.revision + ")"; return Promise.resolve(); }
    st.saving = true;
    saveState.textContent = "Saving…";
    var sent = clone(st.doc);
    st.inflight = gc.api("PUT", "/api/guides/" + gid + "/edits", {base_revision: st.revision, edits: sent}).then(function (r) {
      return r.json().then(function (body) { return {status: r.status, body: body}; });
    }).then(function (res) {
      st.saving = false;
      if (res.status === 200) {
        st.revision = res.body.revision; st.saved = res.body.edits;
        var clean = same(st.doc, sent);
        if (clean) { st.doc = clone(res.body.edits); }  // take the server's normal form
        saveState.textContent = clean ? "All changes saved (revision " + st.revision + ")" : "Unsaved changes…";
      } else if (res.status === 409) {
        var m = merge3(st.saved, st.doc, res.body.edits);
        st.revision = res.body.revision; st.saved = res.body.edits;
        st.doc = m.doc;  // their changes plus mine (mine where both changed the same thing)
        render();
        if (m.conflicts.length) {
          document.getElementById("conflict-text").textContent = "Someone else saved changes to the same parts (" +
            m.conflicts.join(", ") + "). Their other changes are merged in; on screen is your version of those parts, not saved yet.";
          document.getElementById("conflict").hidden = false;
          st.pendingTheirs = res.body.edits;
          saveState.textContent = "Not saved: conflict";
          return;
        }
        saveState.textContent = "Merged with another editor's changes; saving…";
        return save();
      } else {
        saveState.textContent = "Not saved: " + (typeof res.body.detail === "string" ? res.body.detail : res.status);
      }
    }).catch(function () { st.saving = false; saveState.textContent = "Not saved: the server did not answer; retrying…"; st.timer = setTimeout(save, 3000); });
    return st.inflight;
  }
  document.getElementById("keep-mine").addEventListener("click", function () {
    document.getElementById("conflict").hidden = true; save();
  });
  document.getElementById("take-theirs").addEventListener("click", function () {
    document.getElementById("conflict").hidden = true; st.doc = clone(st.pendingTheirs); render(); save();
  });
  document.getElementById("voice-select").addEventListener("change", function (ev) {
    st.doc.voice = ev.target.value || undefined; changed(false);
  });
  document.getElementById("rate-input").addEventListener("input", function (ev) {
    var n = parseInt(ev.target.value, 10);
    st.doc.rate = n >= 60 && n <= 450 ? n : undefined; changed(false);
  });
  document.getElementById("lexicon-add").addEventListener("click", function () {
    var name = document.getElementById("lexicon-name"), say = document.getElementById("lexicon-say");
    if (!name.value.trim() || !say.value.trim()) { saveState.textContent = "A pronunciation needs a name and how to say it."; return; }
    st.doc.pronunciations = st.doc.pronunciations || {};
    st.doc.pronunciations[name.value.trim()] = say.value.trim();
    name.value = ""; say.value = "";
    changed(true);
  });
  document.getElementById("title-input").addEventListener("input", function (ev) {
    st.doc.title = ev.target.value.trim() && ev.target.value !== st.base.title ? ev.target.value : undefined;
    if (st.doc.title === undefined) { delete st.doc.title; }
    changed(false);
  });
  window.addEventListener("beforeunload", function (e) { if (!same(st.doc, st.saved)) { e.preventDefault(); } });

  // ---- publish ----
  document.getElementById("publish").addEventListener("click", function () {
    var out = document.getElementById("publish-state");
    clearTimeout(st.timer);
    save().then(function () {
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
  });

  gc.api("GET", "/api/guides/" + gid + "/edits").then(function (r) { return r.json(); }).then(function (s) {
    if (!s.base) { saveState.textContent = "The guide is still being composed; reload in a moment."; return; }
    st.revision = s.revision; st.saved = s.edits; st.doc = clone(s.edits); st.base = s.base; st.scale = s.device_scale || 1;
    st.review = {};
    ((s.attention || {}).review || []).forEach(function (r) { st.review[r.step] = r.why; });
    return loadVoices().then(function () { return s; });
  }).then(function (s) {
    if (!s) { return; }
    render();
    saveState.textContent = "All changes saved (revision " + st.revision + ")";
    root.dataset.ready = "1";
  });
})();
