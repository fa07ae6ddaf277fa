// Shared helpers: CSRF-carrying fetch, live job progress, confirmations. No dependencies.
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
  pollJob: function (id, onUpdate) {
    // Poll a job until it ends; onUpdate(job) after every answer. Resolves with the final job.
    return new Promise(function (resolve) {
      function tick() {
        gc.api("GET", "/api/jobs/" + id).then(function (r) { return r.json(); }).then(function (job) {
          onUpdate(job);
          if (["done", "failed", "cancelled"].indexOf(job.state) >= 0) { resolve(job); }
          else { setTimeout(tick, 700); }
        }).catch(function () { setTimeout(tick, 2000); });
      }
      tick();
    });
  }
};

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("li[data-job]").forEach(function (li) {
    var state = li.dataset.state;
    if (state !== "queued" && state !== "running") { return; }
    gc.pollJob(li.dataset.job, function (job) {
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
});
