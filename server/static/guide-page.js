// The guide's page: exports that run as jobs (PDF, SCORM with the video) with live progress, then the
// download (copy buttons: app.js).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  function size(n) { return n > 1e6 ? (n / 1e6).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1e3)) + " KB"; }

  document.querySelectorAll(".exports .export-job").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var box = btn.closest(".exports");
      var prog = box.querySelector(".export-progress"), bar = prog.querySelector("progress");
      var what = prog.querySelector(".export-what"), ready = box.querySelector(".export-ready");
      var err = box.querySelector(".export-error");
      var label = btn.textContent;
      err.textContent = "";
      ready.hidden = true;
      btn.disabled = true;
      prog.hidden = false;
      what.textContent = "Starting the " + label + " export…";
      var url = "/api/guides/" + box.dataset.guide + "/versions/" + box.dataset.version + "/exports";
      gc.api("POST", url, {format: btn.dataset.format, video: btn.dataset.video === "1"}).then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { throw new Error(body.detail || ("the export could not start (" + r.status + ")")); }
          return body;
        });
      }).then(function (job) {
        return gc.followJob(job.id, function (j) {
          bar.max = j.total || 1;
          bar.value = j.done;
          if (j.state === "queued") { what.textContent = "Waiting for the jobs before it to finish…"; }
          else if (j.what) { what.textContent = j.what; }
        });
      }).then(function (job) {
        btn.disabled = false;
        prog.hidden = true;
        if (job.state !== "done") { throw new Error(job.error || ("the export was " + job.state)); }
        ready.href = job.result.download;
        ready.textContent = "Download " + label + " (" + size(job.result.bytes) + ")";
        ready.hidden = false;
        window.location.assign(job.result.download);  // an attachment: the page stays
      }).catch(function (e) {
        btn.disabled = false;
        prog.hidden = true;
        err.textContent = label + ": " + e.message;
      });
    });
  });
});
