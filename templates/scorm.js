/* SCORM 1.2 runtime glue for a guidecast guide: find the LMS's API (standard discovery through
   window.parent and window.opener), LMSInitialize on load, "completed" once the learner reaches the
   end of the guide, LMSCommit, and LMSFinish when the page goes away. A package with a knowledge check
   (#knowledge-check) grades it here and reports cmi.core.score.raw (0-100) and "passed" or "failed"
   instead of "completed". */
(function () {
  "use strict";
  function findAPI(win) {
    var tries = 0;
    while (win && !win.API && win.parent && win.parent !== win) {
      if (++tries > 7) return null;
      win = win.parent;
    }
    return win && win.API ? win.API : null;
  }
  function getAPI() {
    var api = null;
    try { api = findAPI(window); } catch (e) { api = null; }
    if (!api && window.opener) {
      try { api = findAPI(window.opener); } catch (e) { api = null; }
    }
    return api;
  }
  var check = document.getElementById("knowledge-check");
  function grade() {
    var questions = check.querySelectorAll(".kc-question"), right = 0;
    Array.prototype.forEach.call(questions, function (q) {
      var ok;
      if (q.dataset.kind === "choice") {
        ok = true;
        Array.prototype.forEach.call(q.querySelectorAll("input"), function (i) {
          if (i.checked !== (i.dataset.correct === "yes")) ok = false;
        });
      } else {
        var b = q.dataset.box.split(",").map(Number), t = Number(q.dataset.tolerance);
        var x = Number(q.dataset.x), y = Number(q.dataset.y);
        ok = q.dataset.x !== undefined && x >= b[0] - t && x <= b[0] + b[2] + t && y >= b[1] - t && y <= b[1] + b[3] + t;
      }
      q.dataset.right = ok ? "yes" : "no";
      q.querySelector(".kc-verdict").textContent = ok ? "Right." : "Not right.";
      if (ok) right += 1;
    });
    var score = questions.length ? Math.round(100 * right / questions.length) : 100;
    return { score: score, passed: score >= Number(check.dataset.passMark) };
  }
  if (check) {
    Array.prototype.forEach.call(check.querySelectorAll(".kc-question[data-kind=hotspot]"), function (q) {
      var shot = q.querySelector(".kc-shot"), img = shot.querySelector("img"), mark = shot.querySelector(".kc-mark");
      shot.addEventListener("click", function (ev) {
        var r = img.getBoundingClientRect(), w = Number(q.dataset.width), h = Number(q.dataset.height);
        var x = (ev.clientX - r.left) * w / r.width, y = (ev.clientY - r.top) * h / r.height;
        q.dataset.x = String(x); q.dataset.y = String(y);
        mark.hidden = false; mark.style.left = (100 * x / w) + "%"; mark.style.top = (100 * y / h) + "%";
      });
    });
  }
  if (check) {
    document.getElementById("kc-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var g = grade();
      document.getElementById("kc-result").textContent = (g.passed ? "Passed: " : "Not passed yet: ") + g.score +
        "% right (pass mark " + check.dataset.passMark + "%).";
      if (!api || !started || finished) return;
      api.LMSSetValue("cmi.core.score.min", "0");
      api.LMSSetValue("cmi.core.score.max", "100");
      api.LMSSetValue("cmi.core.score.raw", String(g.score));
      api.LMSSetValue("cmi.core.lesson_status", g.passed ? "passed" : "failed");
      completed = g.passed;
      api.LMSCommit("");
    });
  }
  var api = getAPI();
  var started = false, completed = false, finished = false;
  window.guidecastScorm = { api: api, status: function () { return completed ? "completed" : (started ? "incomplete" : "no-lms"); } };
  if (!api) return;
  started = String(api.LMSInitialize("")) === "true";
  if (!started) return;
  var status = api.LMSGetValue("cmi.core.lesson_status");
  if (status === "completed" || status === "passed") {
    completed = true;
  } else {
    api.LMSSetValue("cmi.core.lesson_status", "incomplete");
    api.LMSCommit("");
  }
  function complete() {
    if (check) return;  // the knowledge check says passed or failed
    if (completed || finished) return;
    completed = true;
    api.LMSSetValue("cmi.core.lesson_status", "completed");
    api.LMSCommit("");
  }
  function finish() {
    if (finished) return;
    finished = true;
    api.LMSSetValue("cmi.core.exit", completed ? "" : "suspend");
    api.LMSCommit("");
    api.LMSFinish("");
  }
  var end = document.getElementById("guide-end");
  if (end && "IntersectionObserver" in window) {
    new IntersectionObserver(function (entries, observer) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { complete(); observer.disconnect(); }
      });
    }).observe(end);
  }
  function atBottom() {
    var doc = document.documentElement;
    if (window.innerHeight + window.scrollY >= doc.scrollHeight - 4) complete();
  }
  window.addEventListener("scroll", atBottom, { passive: true });
  window.addEventListener("pagehide", finish);
  window.addEventListener("beforeunload", finish);
})();
