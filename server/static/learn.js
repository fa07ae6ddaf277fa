/* Learning: practice mode (do each step on its screenshot), the knowledge check, and the learner view's
   "opened" and time-spent reports. Mouse, touch (a tap is a click) and keyboard (arrow keys move a pointer
   over the screenshot, Enter clicks) all work. */
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  function post(url, body, keepalive) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error(data.detail || ("the server answered " + r.status));
        return data;
      });
    });
  }

  function who(body) {
    var n = document.getElementById("learner-name"), e = document.getElementById("learner-email");
    if (n && n.value.trim()) body.name = n.value.trim();
    if (e && e.value.trim()) body.email = e.value.trim();
    return body;
  }

  /* A screenshot the learner points at: returns image-pixel coordinates to `onPoint(x, y)`. */
  function pointer(shot, img, onPoint) {
    var cross = shot.querySelector(".crosshair");
    var pos = null;
    function natural() { return [+shot.dataset.width || img.naturalWidth || 1, +shot.dataset.height || img.naturalHeight || 1]; }
    function place(el, x, y) {
      var n = natural();
      el.style.left = (100 * x / n[0]) + "%";
      el.style.top = (100 * y / n[1]) + "%";
    }
    shot.addEventListener("click", function (ev) {
      if (ev.target.closest && ev.target.closest(".type-box")) return;
      var r = img.getBoundingClientRect(), n = natural();
      if (ev.clientX < r.left || ev.clientX > r.right || ev.clientY < r.top || ev.clientY > r.bottom) return;
      var x = (ev.clientX - r.left) * n[0] / r.width, y = (ev.clientY - r.top) * n[1] / r.height;
      onPoint(x, y);
    });
    shot.addEventListener("keydown", function (ev) {
      if (ev.target !== shot) return;
      var n = natural(), step = ev.shiftKey ? 50 : 10;
      if (!pos) pos = [n[0] / 2, n[1] / 2];
      var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[ev.key]) {
        pos = [Math.max(0, Math.min(n[0], pos[0] + moves[ev.key][0])), Math.max(0, Math.min(n[1], pos[1] + moves[ev.key][1]))];
        cross.hidden = false;
        place(cross, pos[0], pos[1]);
        ev.preventDefault();
      } else if (ev.key === "Enter" || ev.key === " ") {
        cross.hidden = false;
        place(cross, pos[0], pos[1]);
        onPoint(pos[0], pos[1]);
        ev.preventDefault();
      }
    });
    return { place: place, reset: function () { pos = null; if (cross) cross.hidden = true; } };
  }

  function inBox(b, x, y, tol) {
    return x >= b.x - tol && x <= b.x + b.width + tol && y >= b.y - tol && y <= b.y + b.height + tol;
  }

  function boxStyle(el, b, size) {
    el.style.left = (100 * b.x / size[0]) + "%";
    el.style.top = (100 * b.y / size[1]) + "%";
    el.style.width = (100 * b.width / size[0]) + "%";
    el.style.height = (100 * b.height / size[1]) + "%";
  }

  function practice(root) {
    var data = JSON.parse(root.dataset.practice);
    var steps = data.steps;
    if (!steps.length) return;
    var files = root.dataset.files;
    var shot = document.getElementById("practice-shot"), img = document.getElementById("practice-img");
    var hint = document.getElementById("practice-hint"), feedback = document.getElementById("practice-feedback");
    var typeForm = document.getElementById("practice-type"), input = document.getElementById("practice-input");
    var started = Date.now(), idx = 0, tries = 0, hinted = false, stepStart = Date.now(), typing = false, done = [];
    var ptr = pointer(shot, img, clicked);
    root.dataset.state = "step-1";

    function show() {
      var s = steps[idx];
      tries = 0; hinted = false; typing = false; stepStart = Date.now();
      img.src = files + s.image;
      img.width = s.image_size[0]; img.height = s.image_size[1];
      shot.dataset.width = String(s.image_size[0]); shot.dataset.height = String(s.image_size[1]);
      img.alt = "Screenshot for step " + s.number + " without the highlight";
      document.getElementById("practice-step").textContent = "Step " + (idx + 1);
      document.getElementById("practice-instruction").textContent = s.instruction;
      feedback.textContent = s.kind === "type" ? "Click the field first, then type." : "Click where you would click.";
      feedback.className = "practice-feedback";
      hint.hidden = true; typeForm.hidden = true; input.value = "";
      ptr.reset();
      root.dataset.state = "step-" + (idx + 1);
      root.dataset.step = s.id;
    }

    function wrong(message) {
      var s = steps[idx];
      tries += 1;
      feedback.className = "practice-feedback wrong";
      feedback.textContent = message;
      if (tries >= data.hint_after && !hinted) {
        hinted = true;
        boxStyle(hint, s.box, s.image_size);
        hint.hidden = false;
        feedback.textContent = message + " Hint: it is in the marked place" +
          (s.kind === "type" && s.value ? ", and you type “" + s.value + "”." : ".");
      }
      root.dataset.tries = String(tries);
    }

    function right() {
      var s = steps[idx];
      done.push({ id: s.id, tries: tries + 1, seconds: (Date.now() - stepStart) / 1000, hinted: hinted });
      idx += 1;
      if (idx < steps.length) {
        show();
        feedback.textContent = "Right. " + feedback.textContent;
      } else {
        finish();
      }
    }

    function clicked(x, y) {
      var s = steps[idx];
      if (!s || typing) return;
      if (!inBox(s.box, x, y, data.tolerance)) {
        wrong("Not there. Try again.");
        return;
      }
      if (s.kind === "click") { right(); return; }
      typing = true;
      boxStyle(typeForm, s.box, s.image_size);
      typeForm.hidden = false;
      feedback.className = "practice-feedback";
      feedback.textContent = "Now type what this step asks for, then press Enter.";
      input.focus();
    }

    typeForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var s = steps[idx], typed = input.value.trim();
      if (!typed) { wrong("Type something first."); return; }
      if (s.value !== null && s.value !== undefined && typed.toLowerCase() !== String(s.value).toLowerCase()) {
        wrong("That is not what this step asks you to type.");
        input.select();
        return;
      }
      right();
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { typing = false; typeForm.hidden = true; shot.focus(); }
    });

    function finish() {
      document.querySelector(".practice-stage").hidden = true;
      var box = document.getElementById("practice-done");
      box.hidden = false;
      var rows = document.getElementById("practice-rows");
      done.forEach(function (d, i) {
        var tr = document.createElement("tr");
        [String(i + 1), String(d.tries) + (d.hinted ? " (hint)" : ""), d.seconds.toFixed(1)].forEach(function (t) {
          var td = document.createElement("td"); td.textContent = t; tr.appendChild(td);
        });
        rows.appendChild(tr);
      });
      var score = document.getElementById("practice-score");
      score.textContent = "Saving your result…";
      post("/api/learn/practice", who({ ctx: root.dataset.ctx, steps: done, seconds: (Date.now() - started) / 1000 }))
        .then(function (r) {
          score.textContent = "You got " + r.score + "% of the steps right at the first try.";
          root.dataset.state = "saved";
          root.dataset.score = String(r.score);
        })
        .catch(function (e) { score.textContent = "Your result could not be saved: " + e.message; root.dataset.state = "error"; });
    }

    show();
  }

  function check(root) {
    var form = document.getElementById("check-form"), started = Date.now();
    form.querySelectorAll(".question[data-kind=hotspot]").forEach(function (q) {
      var shot = q.querySelector(".shot"), img = shot.querySelector("img"), mark = shot.querySelector(".mark");
      var p = pointer(shot, img, function (x, y) {
        q.dataset.x = String(x); q.dataset.y = String(y);
        mark.hidden = false;
        p.place(mark, x, y);
      });
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var answers = {};
      form.querySelectorAll(".question").forEach(function (q) {
        var id = q.dataset.question;
        if (q.dataset.kind === "choice") {
          var picked = [];
          q.querySelectorAll("input:checked").forEach(function (i) { picked.push(+i.value); });
          answers[id] = { choices: picked };
        } else if (q.dataset.x) {
          answers[id] = { x: +q.dataset.x, y: +q.dataset.y };
        } else {
          answers[id] = {};
        }
      });
      var button = document.getElementById("check-submit");
      button.disabled = true;
      post("/api/learn/check", who({ ctx: root.dataset.ctx, answers: answers, seconds: (Date.now() - started) / 1000 }))
        .then(function (r) {
          form.querySelectorAll(".question").forEach(function (q) {
            var ok = r.right[q.dataset.question];
            q.dataset.right = ok ? "yes" : "no";
            q.querySelector(".verdict").textContent = ok ? "Right." : "Not right.";
          });
          var res = document.getElementById("check-result");
          res.hidden = false;
          res.dataset.passed = r.passed ? "yes" : "no";
          document.getElementById("check-verdict").textContent = r.passed ? "Passed" : "Not passed yet";
          document.getElementById("check-score").textContent = "You scored " + r.score + "% (pass mark " + r.pass_mark +
            "%), attempt " + r.attempts + ".";
          root.dataset.state = r.passed ? "passed" : "failed";
        })
        .catch(function (e) {
          button.disabled = false;
          var res = document.getElementById("check-result");
          res.hidden = false;
          document.getElementById("check-verdict").textContent = "Your answers could not be checked: " + e.message;
          root.dataset.state = "error";
        });
    });
  }

  function learnerView(el) {
    var ctx = el.dataset.learnCtx, since = Date.now();
    post("/api/learn/opened", { ctx: ctx, seconds: 0 }).catch(function () {});
    function report() {
      var s = (Date.now() - since) / 1000;
      if (s < 1) return;
      since = Date.now();
      post("/api/learn/opened", { ctx: ctx, seconds: s }, true).catch(function () {});
    }
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") report(); });
    window.addEventListener("pagehide", report);
  }

  function start() {
    var root = document.querySelector(".learn-mode");
    if (root && root.dataset.mode === "practice") practice(root);
    if (root && root.dataset.mode === "check") check(root);
    var lv = document.querySelector("[data-learn-ctx]");
    if (lv) learnerView(lv);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
