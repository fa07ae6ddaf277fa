/* SCORM 1.2 runtime glue for a guidecast guide: find the LMS's API (standard discovery through
   window.parent and window.opener), LMSInitialize on load, "completed" once the learner reaches the
   end of the guide, LMSCommit, and LMSFinish when the page goes away. */
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
