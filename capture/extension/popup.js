// guidecast extension: the toolbar popup. Every button asks the service worker (background.js).
const $ = (id) => document.getElementById(id);
const ask = (type, extra = {}) => chrome.runtime.sendMessage({ type, ...extra }).then((r) => {
  if (r && r.error) throw new Error(r.error);
  return r;
});

function say(text, ok = false) {
  $("message").textContent = text || "";
  $("message").className = ok ? "ok" : "";
}

function show(s) {
  const recording = s.recording;
  const where = s.host ? ` on ${s.host} (this tab only)` : "";
  $("state").textContent = recording ? (s.paused ? `Paused${where} (${s.steps} steps so far).`
    : `Recording${where}: ${s.steps} steps.`) : s.stopped ? `Recorded ${s.steps} steps.` : "Not recording.";
  $("start").hidden = recording;
  $("title").parentElement.hidden = recording || s.stopped;
  $("pause").hidden = $("stop").hidden = $("while").hidden = $("blur-row").hidden = !recording;
  $("pause").textContent = s.paused ? "Resume" : "Pause";
  $("done").hidden = !s.stopped;
  $("recording").hidden = s.stopped;
}

async function targetTab() {
  const asked = new URLSearchParams(location.search).get("tab"); // the popup opened as a page (tests)
  if (asked) return Number(asked);
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab.id;
}

const act = (fn) => async () => {
  try {
    say("");
    const s = await fn();
    if (s) show(s);
  } catch (e) {
    say(e.message);
  }
};

$("start").onclick = act(async () => ask("start", { tabId: await targetTab(), title: $("title").value.trim() }));
$("pause").onclick = act(() => ask("pause"));
$("stop").onclick = act(() => ask("stop"));
$("add-note").onclick = act(async () => {
  const s = await ask("note", { text: $("note").value.trim() });
  $("note").value = "";
  say("Note added to the last step.", true);
  return s;
});
$("blur").onclick = act(async () => {
  const s = await ask("pick");
  say("Click the element to blur on the page.", true);
  return s;
});
$("send").onclick = act(async () => {
  $("progress").hidden = false;
  const s = await ask("send");
  say(`Sent. The guide opens in a new tab (${s.last_upload.editor_url}).`, true);
  return s;
});
$("save").onclick = act(async () => {
  const s = await ask("save");
  say("Saved to your downloads. Upload it on guidecast's library page, or `guidecast import` it.", true);
  return s;
});
$("discard").onclick = act(() => ask("discard"));
$("connect").onclick = act(async () => {
  const me = await ask("connect", { server: $("server").value.trim(), token: $("token").value.trim() });
  say(`Connected as ${me.email}.`, true);
  return null;
});
chrome.runtime.onMessage.addListener((m) => {
  if (m && m.type === "progress") $("progress").value = m.total ? m.sent / m.total : 0;
});

ask("settings").then((s) => { if (s && s.server) $("server").value = s.server; else $("connection").open = true; });
ask("status").then(show, (e) => say(e.message));
