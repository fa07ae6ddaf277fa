// Learner page: captions by choice, chapters that seek, step-by-step mode (buttons and arrow keys),
// and analytics beacons (view, play, step reached, complete, ended).
"use strict";
(function () {
  var root = document.querySelector(".learn");
  if (!root) { return; }
  var video = document.getElementById("video");
  var steps = Array.prototype.slice.call(document.querySelectorAll(".steps .step"));
  var sid = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var furthest = 0, completed = false, current = 0;

  function beacon(kind, step) {
    var body = JSON.stringify({ctx: root.dataset.beacon, kind: kind, step: step === undefined ? null : step, sid: sid});
    if (navigator.sendBeacon) { navigator.sendBeacon("/api/beacon", new Blob([body], {type: "text/plain"})); }
    else { fetch("/api/beacon", {method: "POST", body: body, keepalive: true}); }
  }
  function reached(n) {
    if (n > furthest) { furthest = n; beacon("step", n); }
    if (n >= steps.length && steps.length && !completed) { completed = true; beacon("complete", n); }
  }
  beacon("view");

  // captions: off until chosen; the choice is remembered
  var toggle = document.getElementById("captions-toggle");
  if (video && toggle) {
    var track = video.textTracks && video.textTracks[0];
    var want = localStorage.getItem("gc-captions") === "on";
    toggle.checked = want;
    var apply = function () { if (track) { track.mode = toggle.checked ? "showing" : "hidden"; } };
    apply();
    toggle.addEventListener("change", function () {
      localStorage.setItem("gc-captions", toggle.checked ? "on" : "off");
      apply();
    });
  }
  if (video) {
    var played = false;
    video.addEventListener("play", function () { if (!played) { played = true; beacon("play"); } });
    video.addEventListener("ended", function () { beacon("ended"); });
    document.querySelectorAll("[data-seek]").forEach(function (b) {
      b.addEventListener("click", function () {
        video.currentTime = parseFloat(b.dataset.seek);
        if (video.paused) { video.play().catch(function () {}); }
        var i = steps.findIndex(function (s) { return s.dataset.stepId === b.dataset.step; });
        if (i >= 0) { show(i, true); }
      });
    });
    var chapterByStep = {};
    document.querySelectorAll("[data-seek]").forEach(function (b) { chapterByStep[b.dataset.step] = b; });
    video.addEventListener("timeupdate", function () {
      var t = video.currentTime, active = null;
      document.querySelectorAll("[data-seek]").forEach(function (b) {
        if (parseFloat(b.dataset.seek) <= t + 0.05) { active = b; }
        b.removeAttribute("aria-current");
      });
      if (active) {
        active.setAttribute("aria-current", "step");
        var i = steps.findIndex(function (s) { return s.dataset.stepId === active.dataset.step; });
        if (i >= 0) { reached(i + 1); }
      }
    });
  }

  // step-by-step mode
  var modeBtn = document.getElementById("mode-toggle");
  var stepper = document.querySelector(".stepper");
  var pos = document.getElementById("step-pos");
  var stepMode = false;
  function show(i, fromVideo) {
    current = Math.max(0, Math.min(steps.length - 1, i));
    reached(current + 1);
    if (!stepMode) { return; }
    steps.forEach(function (s, k) { s.hidden = k !== current; });
    document.querySelectorAll(".steps .section").forEach(function (s) { s.hidden = true; });
    pos.textContent = "Step " + (current + 1) + " of " + steps.length;
    document.getElementById("prev-step").disabled = current === 0;
    document.getElementById("next-step").disabled = current === steps.length - 1;
    if (!fromVideo) { steps[current].focus({preventScroll: false}); }
  }
  function setMode(on) {
    stepMode = on;
    root.classList.toggle("step-mode", on);
    modeBtn.setAttribute("aria-pressed", on ? "true" : "false");
    modeBtn.textContent = on ? "Show all steps" : "Step-by-step mode";
    stepper.hidden = !on;
    if (on) { show(current); }
    else {
      steps.forEach(function (s) { s.hidden = false; });
      document.querySelectorAll(".steps .section").forEach(function (s) { s.hidden = false; });
    }
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
  // reading through: a step counts as reached when it scrolls into view
  if ("IntersectionObserver" in window) {
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (en) { if (en.isIntersecting) { reached(steps.indexOf(en.target) + 1); } });
    }, {threshold: 0.6});
    steps.forEach(function (s) { io.observe(s); });
  }
})();
