// The library's upload form: sent from the page itself (with its progress), so that a refused upload is
// answered beside the field to fix, in plain words, and the chosen file stays chosen. Without script the
// form posts and the page comes back with the same message.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var file = document.getElementById("upload-file"), url = document.getElementById("upload-url");
  var chosen = document.getElementById("upload-chosen");
  var prog = form.querySelector(".upload-progress"), bar = prog.querySelector("progress");
  var what = prog.querySelector(".upload-what"), submit = form.querySelector("button[type=submit]");
  var fields = {file: file, base_url: url};

  function clear() {
    form.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
    form.querySelectorAll(".has-error").forEach(function (f) { f.classList.remove("has-error"); });
    [file, url].forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.setAttribute("aria-describedby", el.getAttribute("aria-describedby").replace(" upload-error", ""));
    });
  }
  function fail(field, message) {
    clear();
    var el = fields[field] || file;
    var box = el.closest(".field");
    var msg = document.createElement("span");
    msg.className = "error field-error";
    msg.id = "upload-error";
    msg.setAttribute("role", "alert");
    msg.textContent = message;
    box.appendChild(msg);
    box.classList.add("has-error");
    el.setAttribute("aria-invalid", "true");
    el.setAttribute("aria-describedby", el.getAttribute("aria-describedby") + " upload-error");
    el.focus();
  }
  function size(n) { return n > 1e6 ? (n / 1e6).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1e3)) + " KB"; }
  file.addEventListener("change", function () {
    clear();
    var f = file.files[0];
    chosen.hidden = !f;
    chosen.textContent = f ? "Chosen: “" + f.name + "” (" + size(f.size) + ")" : "";
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var f = file.files[0];
    if (!f) { fail("file", "Choose a file to upload."); return; }
    var max = parseInt(form.dataset.maxMb, 10);
    if (max && f.size > max * 1024 * 1024) {
      fail("file", "“" + f.name + "” is " + size(f.size) + "; this server takes files of at most " + max + " MB.");
      return;
    }
    clear();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", gc.csrf());
    xhr.upload.addEventListener("progress", function (ev) {
      if (ev.lengthComputable) { bar.max = ev.total; bar.value = ev.loaded; }
      what.textContent = "Uploading “" + f.name + "”…";
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 201 && body.location) { window.location.assign(body.location); return; }
      prog.hidden = true;
      submit.disabled = false;
      var message = typeof body.detail === "string" ? body.detail : "The upload did not go through (" + xhr.status + ").";
      if (xhr.status === 413 && !body.field) { message = "“" + f.name + "” is larger than this server takes (at most " + max + " MB)."; }
      fail(body.field || "file", message);
    });
    xhr.addEventListener("error", function () {
      prog.hidden = true;
      submit.disabled = false;
      fail("file", "The upload did not reach the server; check the connection and upload again.");
    });
    prog.hidden = false;
    submit.disabled = true;
    what.textContent = "Uploading “" + f.name + "”…";
    xhr.send(new FormData(form));
  });
});
