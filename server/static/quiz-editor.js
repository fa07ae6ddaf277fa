/* The manager's knowledge-check editor: add, change, remove and reorder questions, set the pass mark, save
   (PUT /api/guides/{id}/quiz). A refused save shows the server's words and keeps everything on the page. */
(function () {
  "use strict";
  var root = document.querySelector(".quiz-editor");
  if (!root) return;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var state = JSON.parse(root.dataset.quiz);
  var steps = JSON.parse(root.dataset.steps);
  var quiz = state.quiz;
  var list = document.getElementById("questions");
  var status = document.getElementById("quiz-status"), error = document.getElementById("quiz-error");
  var passMark = document.getElementById("pass-mark");
  passMark.value = quiz.pass_mark;
  passMark.addEventListener("input", function () { quiz.pass_mark = passMark.value === "" ? null : Number(passMark.value); });

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function button(label, onClick, cls) {
    var b = el("button", { type: "button", "class": cls || "" }, label);
    b.addEventListener("click", onClick);
    return b;
  }
  function stepOf(id) { return steps.filter(function (s) { return s.id === id; })[0]; }
  function newId(prefix) {
    var n = 1, ids = quiz.questions.map(function (q) { return q.id; });
    while (ids.indexOf(prefix + "-" + n) >= 0) n += 1;
    return prefix + "-" + n;
  }
  function move(i, d) {
    var j = i + d;
    if (j < 0 || j >= quiz.questions.length) return;
    var q = quiz.questions.splice(i, 1)[0];
    quiz.questions.splice(j, 0, q);
    render();
  }

  function choiceEditor(li, q) {
    var ul = el("ul", { "class": "choices" });
    q.choices.forEach(function (c, k) {
      var row = el("li", { "class": "choice-row" });
      var text = el("input", { type: "text", "class": "choice-text", "aria-label": "Choice " + (k + 1), maxlength: "300" });
      text.value = c.text;
      text.addEventListener("input", function () { c.text = text.value; });
      var lab = el("label", { "class": "choice-correct" });
      var box = el("input", { type: "checkbox" });
      box.checked = !!c.correct;
      box.addEventListener("change", function () { c.correct = box.checked; });
      lab.appendChild(box);
      lab.appendChild(document.createTextNode(" right answer"));
      row.appendChild(text); row.appendChild(lab);
      row.appendChild(button("Remove choice", function () { q.choices.splice(k, 1); render(); }, "link remove-choice"));
      ul.appendChild(row);
    });
    li.appendChild(ul);
    li.appendChild(button("Add a choice", function () { q.choices.push({ text: "", correct: false }); render(); }, "add-choice-option"));
  }

  function hotspotEditor(li, q) {
    var st = stepOf(q.step_id);
    var wrap = el("div", { "class": "shot box-editor" });
    var img = el("img", { src: state.files + q.image, alt: "Screenshot of step " + (st ? st.number : ""), draggable: "false" });
    img.width = q.image_size[0]; img.height = q.image_size[1];
    var box = el("span", { "class": "hint-box" });
    wrap.appendChild(img); wrap.appendChild(box);
    function draw() {
      var b = q.box, s = q.image_size;
      box.style.left = (100 * b.x / s[0]) + "%"; box.style.top = (100 * b.y / s[1]) + "%";
      box.style.width = (100 * b.width / s[0]) + "%"; box.style.height = (100 * b.height / s[1]) + "%";
    }
    var start = null;
    function at(ev) {
      var r = img.getBoundingClientRect();
      return [(ev.clientX - r.left) * q.image_size[0] / r.width, (ev.clientY - r.top) * q.image_size[1] / r.height];
    }
    wrap.addEventListener("pointerdown", function (ev) { start = at(ev); wrap.setPointerCapture(ev.pointerId); ev.preventDefault(); });
    wrap.addEventListener("pointermove", function (ev) {
      if (!start) return;
      var p = at(ev);
      q.box = { x: Math.round(Math.min(start[0], p[0])), y: Math.round(Math.min(start[1], p[1])),
                width: Math.round(Math.abs(p[0] - start[0])), height: Math.round(Math.abs(p[1] - start[1])) };
      draw(); sync();
    });
    wrap.addEventListener("pointerup", function () { start = null; });
    li.appendChild(wrap);
    var nums = el("p", { "class": "row box-numbers" });
    var inputs = {};
    [["x", "Left"], ["y", "Top"], ["width", "Width"], ["height", "Height"]].forEach(function (f) {
      var lab = el("label", {}, f[1] + " ");
      var inp = el("input", { type: "number", step: "1", "class": "box-" + f[0] });
      inp.addEventListener("input", function () { q.box[f[0]] = Number(inp.value); draw(); });
      inputs[f[0]] = inp;
      lab.appendChild(inp); nums.appendChild(lab);
    });
    function sync() { Object.keys(inputs).forEach(function (k) { inputs[k].value = q.box[k]; }); }
    sync(); draw();
    li.appendChild(nums);
  }

  function render() {
    list.textContent = "";
    quiz.questions.forEach(function (q, i) {
      var li = el("li", { "class": "question-edit", "data-question": q.id, "data-kind": q.kind });
      var head = el("p", { "class": "row" });
      var st = q.step_id ? stepOf(q.step_id) : null;
      head.appendChild(el("span", { "class": "meta" }, (q.kind === "choice" ? "Multiple choice" : "Click on the screenshot") +
        (st ? " · about step " + st.number : "")));
      head.appendChild(button("Move up", function () { move(i, -1); }, "link move-up"));
      head.appendChild(button("Move down", function () { move(i, 1); }, "link move-down"));
      head.appendChild(button("Remove question", function () { quiz.questions.splice(i, 1); render(); }, "link remove-question"));
      li.appendChild(head);
      var lab = el("label", { "class": "prompt" }, "Question ");
      var prompt = el("input", { type: "text", "class": "prompt-text", maxlength: "500" });
      prompt.value = q.prompt;
      prompt.addEventListener("input", function () { q.prompt = prompt.value; });
      lab.appendChild(prompt);
      li.appendChild(lab);
      if (q.kind === "choice") choiceEditor(li, q); else hotspotEditor(li, q);
      list.appendChild(li);
    });
  }

  document.getElementById("add-choice").addEventListener("click", function () {
    quiz.questions.push({ kind: "choice", id: newId("question"), step_id: null, prompt: "",
                          choices: [{ text: "", correct: true }, { text: "", correct: false }] });
    render();
  });
  document.getElementById("add-hotspot").addEventListener("click", function () {
    var st = stepOf(document.getElementById("add-hotspot-step").value);
    if (!st || !st.image) return;
    quiz.questions.push({ kind: "hotspot", id: newId("where"), step_id: st.id, prompt: "Where do you click? Click it.",
                          image: st.image, image_size: st.size,
                          box: { x: 0, y: 0, width: Math.round(st.size[0] / 4), height: Math.round(st.size[1] / 4) } });
    render();
  });

  function call(method, url, body) {
    return fetch(url, { method: method, credentials: "same-origin",
                        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) {
          if (!r.ok) { var e = new Error(typeof d.detail === "string" ? d.detail : JSON.stringify(d.detail)); throw e; }
          return d;
        });
      });
  }
  function problem(e) { error.hidden = false; error.textContent = "Not saved: " + e.message; status.textContent = ""; }

  document.getElementById("save-quiz").addEventListener("click", function () {
    error.hidden = true;
    status.textContent = "Saving…";
    call("PUT", "/api/guides/" + root.dataset.guide + "/quiz", { version: state.version, revision: state.revision, quiz: quiz })
      .then(function (d) { state.revision = d.revision; quiz = d.quiz; passMark.value = quiz.pass_mark; render();
                           status.textContent = "Saved."; root.dataset.revision = String(d.revision); })
      .catch(problem);
  });
  function regenerate(source) {
    status.textContent = "Making questions…";
    call("POST", "/api/guides/" + root.dataset.guide + "/quiz/generate", { version: state.version, source: source })
      .then(function (d) { quiz.questions = d.quiz.questions; render();
                           status.textContent = (d.quiz.notices || []).join(" ") + " Not saved yet: look at them, then Save."; })
      .catch(problem);
  }
  document.getElementById("regenerate").addEventListener("click", function () { regenerate("steps"); });
  var model = document.getElementById("regenerate-model");
  if (model) model.addEventListener("click", function () { regenerate("model"); });
  render();
})();
