// Learner page and embed player: captions by choice; chapters that seek; step-by-step mode (buttons and
// arrow keys) in sync with the video both ways (Next/Previous seek it, playing moves the step); screenshots
// zoomed to the target on small screens (tap for the whole picture); analytics beacons, only on pages that
// count (a learner on a published version): view, play, step (the learner's step number reached), stepmode
// (shown in step-by-step mode), read (on screen for the minimum reading time), watch (percent played).
"use strict";
(function () {
  var root = document.querySelector(".learn");
  if (!root) { return; }
  var video = document.getElementById("video");
  var steps = Array.prototype.slice.call(document.querySelectorAll(".steps .step"));
  var sections = Array.prototype.slice.call(document.querySelectorAll(".steps .section"));
  var outro = document.querySelector(".learn .outro");
  var chapters = Array.prototype.slice.call(document.querySelectorAll(".chapter[data-seek]"));
  var sid = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var sent = {}, current = 0, stepMode = false;

  function beacon(kind, step) {
    if (!root.dataset.beacon) { return; }  // a preview (an editor) or a draft: not counted
    var key = kind + ":" + step;
    if (sent[key]) { return; }
    sent[key] = true;
    var body = JSON.stringify({ctx: root.dataset.beacon, kind: kind, step: step === undefined ? null : step, sid: sid});
    if (navigator.sendBeacon) { navigator.sendBeacon("/api/beacon", new Blob([body], {type: "text/plain"})); }
    else { fetch("/api/beacon", {method: "POST", body: body, keepalive: true}); }
  }
  function number(i) { return parseInt(steps[i].dataset.number, 10) || i + 1; }
  function reached(i) { if (i >= 0 && i < steps.length) { beacon("step", number(i)); } }
  beacon("view");

  // -- video: captions, chapters, how much was watched ---------------------------------------------------
  var toggle = document.getElementById("captions-toggle");
  if (video && toggle) {
    var track = video.textTracks && video.textTracks[0];
    toggle.checked = localStorage.getItem("gc-captions") === "on";
    var apply = function () { if (track) { track.mode = toggle.checked ? "showing" : "hidden"; } };
    apply();
    toggle.addEventListener("change", function () {
      localStorage.setItem("gc-captions", toggle.checked ? "on" : "off");
      apply();
    });
  }
  function stepIndexOf(chapter) {
    var id = chapter ? chapter.dataset.step : "";
    return id ? steps.findIndex(function (s) { return s.dataset.stepId === id; }) : -1;
  }
  function chapterAt(t) {
    var at = null;
    chapters.forEach(function (c) { if (parseFloat(c.dataset.seek) <= t + 0.05) { at = c; } });
    return at;
  }
  function chapterOf(i) {
    var id = steps[i] && steps[i].dataset.stepId;
    return chapters.find(function (c) { return c.dataset.step === id; }) || null;
  }
  function seekToStep(i) {
    var c = chapterOf(i);
    if (video && c) { video.currentTime = parseFloat(c.dataset.seek) + 0.01; }
  }
  function watched() {
    if (!video.duration || !isFinite(video.duration)) { return 0; }
    var t = 0;
    for (var k = 0; k < video.played.length; k++) { t += video.played.end(k) - video.played.start(k); }
    return t / video.duration;
  }
  if (video) {
    var played = false;
    video.addEventListener("play", function () { if (!played) { played = true; beacon("play"); } });
    chapters.forEach(function (c) {
      c.addEventListener("click", function () {
        video.currentTime = parseFloat(c.dataset.seek) + 0.01;
        if (video.paused) { video.play().catch(function () {}); }
        var i = stepIndexOf(c);
        if (i >= 0) { show(i, {fromVideo: true}); }
      });
    });
    video.addEventListener("timeupdate", function () {
      var active = chapterAt(video.currentTime);
      chapters.forEach(function (c) {
        if (c === active) { c.setAttribute("aria-current", "step"); } else { c.removeAttribute("aria-current"); }
      });
      var i = stepIndexOf(active);
      if (i >= 0) {
        reached(i);
        if (i !== current) { show(i, {fromVideo: true}); }  // playing moves the step
      }
      for (var p = 10; p <= Math.floor(watched() * 10) * 10; p += 10) { beacon("watch", p); }
    });
  }

  // -- step-by-step mode ---------------------------------------------------------------------------------
  var modeBtn = document.getElementById("mode-toggle");
  var stepper = document.querySelector(".stepper");
  var pos = document.getElementById("step-pos");
  function sectionOf(i) {  // the heading the step sits under
    var found = null;
    sections.forEach(function (sec) {
      if (sec.compareDocumentPosition(steps[i]) & Node.DOCUMENT_POSITION_FOLLOWING) { found = sec; }
    });
    return found;
  }
  function show(i, opts) {
    opts = opts || {};
    if (!steps.length) { return; }
    current = Math.max(0, Math.min(steps.length - 1, i));
    reached(current);
    if (!stepMode) { return; }
    var heading = sectionOf(current);
    steps.forEach(function (s, k) { s.classList.toggle("current", k === current); });
    sections.forEach(function (sec) { sec.classList.toggle("current", sec === heading); });
    if (outro) { outro.classList.toggle("current", current === steps.length - 1); }
    pos.textContent = "Step " + number(current) + " of " + steps.length;
    document.getElementById("prev-step").disabled = current === 0;
    document.getElementById("next-step").disabled = current === steps.length - 1;
    beacon("stepmode", number(current));
    layoutAll();
    if (!opts.fromVideo && !opts.noSeek) { seekToStep(current); }  // Next/Previous move the video too
    if (!opts.fromVideo) { steps[current].focus({preventScroll: false}); }
  }
  function setMode(on) {
    stepMode = on;
    root.classList.toggle("step-mode", on);
    modeBtn.setAttribute("aria-pressed", on ? "true" : "false");
    modeBtn.textContent = on ? "Show all steps" : "Step-by-step mode";
    stepper.hidden = !on;
    if (on) { show(current, {noSeek: true}); }
    else { layoutAll(); }
  }
  if (modeBtn) {
    modeBtn.addEventListener("click", function () { setMode(!stepMode); });
    document.getElementById("prev-step").addEventListener("click", function () { show(current - 1); });
    document.getElementById("next-step").addEventListener("click", function () { show(current + 1); });
    document.addEventListener("keydown", function (e) {
      var tag = (e.target.tagName || "").toLowerCase();
      if (!stepMode || tag === "input" || tag === "textarea" || tag === "select" || tag === "video") { return; }
      if (e.key === "ArrowRight") { show(current + 1); e.preventDefault(); }
      if (e.key === "ArrowLeft") { show(current - 1); e.preventDefault(); }
    });
  }

  // -- reading: a step on screen counts as reached, and as read after the minimum time ---------------------
  var readMs = (parseFloat(root.dataset.readS) || 4) * 1000;
  var timers = new Map();
  if ("IntersectionObserver" in window && steps.length) {
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (en) {
        var i = steps.indexOf(en.target);
        var seen = en.isIntersecting && (en.intersectionRatio >= 0.6 || en.intersectionRect.height >= 0.5 * window.innerHeight);
        if (seen) {
          reached(i);
          if (!timers.has(i)) { timers.set(i, setTimeout(function () { beacon("read", number(i)); }, readMs)); }
        } else if (timers.has(i)) {
          clearTimeout(timers.get(i));
          timers.delete(i);
        }
      });
    }, {threshold: [0, 0.25, 0.5, 0.6, 0.75, 1]});
    steps.forEach(function (s) { io.observe(s); });
  }

  // -- screenshots on a small screen: zoomed to the target, tap for the whole picture ----------------------
  var small = window.matchMedia("(max-width: 700px)");
  var TARGET_PX = 180, MAX_UPSCALE = 3;  // the target this wide on screen, the picture at most 3x enlarged
  var figures = Array.prototype.slice.call(document.querySelectorAll(".steps .shot[data-zoom]"));
  function layout(fig) {
    var z = fig.dataset.zoom.split(",").map(Number);
    var x = z[0], y = z[1], w = z[2], h = z[3], W = z[4], H = z[5];
    var frame = fig.querySelector(".frame"), img = frame.querySelector("img");
    var cw = frame.clientWidth;
    var rw = Math.min(W, Math.max(w * cw / TARGET_PX, cw / MAX_UPSCALE));
    var zoom = small.matches && cw > 0 && rw < W * 0.9;
    fig.classList.toggle("zoomable", zoom);
    var btn = fig.querySelector(".zoom-toggle");
    if (btn) { btn.hidden = !zoom; }
    if (!zoom || fig.dataset.full === "1") {
      fig.classList.remove("zoomed");
      img.style.width = img.style.left = img.style.top = frame.style.height = "";
      if (btn) { btn.textContent = "Zoom in on the step"; btn.setAttribute("aria-pressed", "false"); }
      return;
    }
    var rh = Math.min(H, Math.max(rw * 0.75, h * 1.4));
    var x0 = Math.max(0, Math.min(W - rw, x + w / 2 - rw / 2));
    var y0 = Math.max(0, Math.min(H - rh, y + h / 2 - rh / 2));
    var s = cw / rw;
    frame.style.height = (rh * s).toFixed(1) + "px";
    img.style.width = (W * s).toFixed(1) + "px";
    img.style.left = (-x0 * s).toFixed(1) + "px";
    img.style.top = (-y0 * s).toFixed(1) + "px";
    fig.classList.add("zoomed");
    if (btn) { btn.textContent = "Show the whole screen"; btn.setAttribute("aria-pressed", "true"); }
  }
  function layoutAll() { figures.forEach(layout); }
  figures.forEach(function (fig) {
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "zoom-toggle";
    btn.hidden = true;
    fig.appendChild(btn);
    function flip() { fig.dataset.full = fig.dataset.full === "1" ? "0" : "1"; layout(fig); }
    btn.addEventListener("click", flip);
    fig.querySelector(".frame").addEventListener("click", function () { if (fig.classList.contains("zoomable")) { flip(); } });
  });
  layoutAll();
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { cancelAnimationFrame(pending); }
    pending = requestAnimationFrame(layoutAll);
  });
  if (small.addEventListener) { small.addEventListener("change", layoutAll); }
})();
