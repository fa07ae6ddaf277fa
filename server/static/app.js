// Shared helpers: CSRF-carrying fetch, live job progress (server-sent events, polling as fallback),
// confirmations, copy buttons (data-copy="text" or data-copy-from="id of a field"). No dependencies.
"use strict";
window.gc = {
  csrf: function () {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  },
  api: function (method, url, body) {
    var opts = {method: method, credentials: "same-origin",
                headers: {"X-CSRF-Token": gc.csrf(), "Accept": "application/json"}};
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts);
  },
  followJob: function (id, onUpdate) {
    // Follow a job until it ends: its event stream (/api/jobs/ID/events), or polling where the stream never
    // answers (no EventSource, a proxy that buffers). onUpdate(job) on every change; resolves with the final job.
    return new Promise(function (resolve) {
      var ended = false;
      function end(job) {
        if (ended) { return; }
        ended = true;
        onUpdate(job);
        resolve(job);
      }
      function poll() {
        gc.api("GET", "/api/jobs/" + id).then(function (r) { return r.json(); }).then(function (job) {
          if (["done", "failed", "cancelled"].indexOf(job.state) >= 0) { end(job); }
          else { onUpdate(job); setTimeout(poll, 700); }
        }).catch(function () { setTimeout(poll, 2000); });
      }
      if (!window.EventSource) { poll(); return; }
      var stream = new EventSource("/api/jobs/" + id + "/events"), heard = false;
      stream.addEventListener("progress", function (e) { heard = true; onUpdate(JSON.parse(e.data)); });
      stream.addEventListener("end", function (e) { stream.close(); end(JSON.parse(e.data)); });
      stream.onerror = function () {
        // a stream that worked reconnects by itself (each lasts a few seconds); one that never did: poll
        if (!heard) { stream.close(); poll(); }
      };
    });
  }
};

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("li[data-job]").forEach(function (li) {
    var state = li.dataset.state;
    if (state !== "queued" && state !== "running") { return; }
    gc.followJob(li.dataset.job, function (job) {
      li.querySelector(".job-state").textContent = job.state;
      li.querySelector(".job-what").textContent = job.what;
      var bar = li.querySelector("progress");
      bar.max = job.total || 1;
      bar.value = job.done;
    }).then(function () { window.location.reload(); });
  });
  document.querySelectorAll("[data-job-cancel]").forEach(function (b) {
    b.addEventListener("click", function () { gc.api("POST", "/api/jobs/" + b.dataset.jobCancel + "/cancel"); });
  });
  document.querySelectorAll("[data-confirm]").forEach(function (b) {
    b.addEventListener("click", function (e) { if (!window.confirm(b.dataset.confirm)) { e.preventDefault(); } });
  });

  // copy buttons: share links, embed code
  function copied(btn, ok) {
    var was = btn.dataset.label || btn.textContent;
    btn.dataset.label = was;
    btn.textContent = ok ? "Copied" : "Select and copy it yourself";
    setTimeout(function () { btn.textContent = was; }, 2000);
  }
  document.querySelectorAll("button.copy").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var from = btn.dataset.copyFrom ? document.getElementById(btn.dataset.copyFrom) : null;
      var text = from ? from.value : btn.dataset.copy;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(btn, true); }, function () {
          if (from) { from.select(); }
          copied(btn, false);
        });
      } else {
        if (from) { from.select(); }
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        copied(btn, ok);
      }
    });
  });
});
