// guidecast extension: the service worker. Follows the tab a recording started in (and the popups it
// opens), injects the content script (bridge.js + capture/recorder.js) into their documents, takes a
// screenshot per step before the action, keeps the recording (chrome.storage.local, so a restarted
// worker goes on), and sends it to a guidecast server or saves it as a bundle file.
import { Recording } from "./lib/recording.js";
import { sha256Hex, bytesBase64 } from "./lib/recording.js";
import { uploadBundle } from "./lib/upload.js";

const CAPTURE_GAP_MS = 520; // Chromium allows two captureVisibleTab calls a second
let rec = null;
let loaded = null;
let lastCapture = 0;
let captureChain = Promise.resolve();
let pending = 0;
let lastUpload = null;
let events = Promise.resolve();

function load() {
  loaded = loaded || chrome.storage.local.get(["recording"]).then((s) => {
    if (s.recording && !rec) rec = Recording.restore(s.recording);
  });
  return loaded;
}
let saveTimer = null;
function persist() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => chrome.storage.local.set({ recording: rec ? rec.toJSON() : null }), 200);
}

function badge() {
  const text = !rec || rec.stopped ? "" : rec.paused ? "II" : "REC";
  chrome.action.setBadgeText({ text });
  chrome.action.setBadgeBackgroundColor({ color: rec && rec.paused ? "#b7950b" : "#c0392b" });
}

// where the recording records: the host of the tab it started in (the popup says it)
function host() {
  const first = rec && rec.events.find((e) => e.kind === "load" && e.page === "main" && e.url);
  try {
    return first ? new URL(first.url).host : null;
  } catch (e) {
    return null;
  }
}

function status() {
  return {
    host: host(),
    recording: !!rec && !rec.stopped, paused: !!rec && rec.paused, stopped: !!rec && rec.stopped,
    steps: rec ? rec.steps : 0, title: rec ? rec.title : null, has_recording: !!rec, pending,
    last_upload: lastUpload,
  };
}

// -- screenshots: one at a time, spaced out, of the followed tab only when it is the one showing ---------
function capture(tabId) {
  const run = async () => {
    const wait = lastCapture + CAPTURE_GAP_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    try {
      const tab = await chrome.tabs.get(tabId);
      if (!tab.active) return null;
      const url = await chrome.tabs.captureVisibleTab(tab.windowId, { format: "png" });
      return url;
    } catch (e) {
      return null; // the tab closed or is showing a page the extension may not capture
    } finally {
      lastCapture = Date.now();
    }
  };
  const p = captureChain.then(run);
  captureChain = p.catch(() => null);
  return p;
}

async function inject(tabId, frameIds) {
  const target = frameIds ? { tabId, frameIds } : { tabId, allFrames: true };
  try {
    await chrome.scripting.executeScript({ target, files: ["content.js"], injectImmediately: true });
  } catch (e) {
    // a page the extension may not script (the browser's own pages, the web store): nothing recorded there
  }
}

async function start(tabId, title) {
  await load();
  const tab = await chrome.tabs.get(tabId);
  rec = new Recording({ title: title || null, tabId });
  rec.viewport = tab.width && tab.height ? { width: tab.width, height: tab.height } : null;
  persist();
  badge();
  await inject(tabId);
  return status();
}

async function stop() {
  if (!rec || rec.stopped) return status();
  await captureChain;
  const main = Object.keys(rec.tabs).find((id) => rec.tabs[id] === "main");
  if (main !== undefined) {
    try {
      await chrome.scripting.executeScript({ target: { tabId: Number(main) }, func: () => {
        const t = document.getElementById("__guidecast_toolbar");
        if (t) t.style.display = "none";
      } });
      const url = await capture(Number(main));
      const tab = await chrome.tabs.get(Number(main));
      if (url) rec.final = { screenshot: await rec.addShot(url), url: tab.url, title: tab.title };
      await chrome.scripting.executeScript({ target: { tabId: Number(main) }, func: () => {
        const t = document.getElementById("__guidecast_toolbar");
        if (t) t.remove();
      } });
    } catch (e) {
      // the tab is gone: the steps are what matter
    }
  }
  rec.stopped = true;
  persist();
  badge();
  return status();
}

async function onEvent(tabId, ev) {
  await load();
  if (!rec || !rec.follows(tabId) || rec.stopped) return { stopped: true, paused: false };
  if (ev.kind === "hello") return { stopped: false, paused: rec.paused };
  if (ev.kind === "stop") return stop().then(() => ({ stopped: true }));
  if (ev.kind === "note") {
    await rec.add(tabId, { kind: "note", text: String(ev.text || "").slice(0, 2000), t: ev.t });
    persist();
    return { stopped: false, paused: rec.paused };
  }
  if (ev.top && ev.viewport && rec.tabs[tabId] === "main") rec.viewport = ev.viewport;
  if (rec.wantsShot(ev)) {
    const url = await capture(tabId);
    if (url) ev.screenshot = await rec.addShot(url);
  }
  await rec.add(tabId, ev);
  persist();
  badge();
  return { stopped: false, paused: rec.paused };
}

async function bundleBytes() {
  const bytes = rec.bundle();
  return { bytes, sha256: await sha256Hex(bytes) };
}

async function send() {
  const { server, token } = await chrome.storage.local.get(["server", "token"]);
  if (!server || !token) throw new Error("enter the guidecast address and your API token first");
  if (!rec || !rec.stopped) throw new Error("stop the recording first");
  const { bytes, sha256 } = await bundleBytes();
  const done = await uploadBundle(bytes, { server, token, title: rec.title, sha256,
    onProgress: (sent, total) => chrome.runtime.sendMessage({ type: "progress", sent, total }).catch(() => {}) });
  lastUpload = { ...done, server };
  if (done.editor_url) await chrome.tabs.create({ url: server.replace(/\/+$/, "") + done.editor_url });
  return { ...status(), last_upload: lastUpload };
}

async function save() {
  if (!rec || !rec.stopped) throw new Error("stop the recording first");
  const { bytes } = await bundleBytes();
  const stamp = new Date(rec.startedAt).toISOString().slice(0, 16).replace(/[:T]/g, "-");
  const id = await chrome.downloads.download({ url: "data:application/zip;base64," + bytesBase64(bytes),
    filename: `guidecast-recording-${stamp}.zip`, saveAs: false });
  return { ...status(), download: id };
}

async function connect(server, token) {
  const base = server.replace(/\/+$/, "");
  let res;
  try {
    res = await fetch(base + "/api/me", { headers: { Authorization: `Bearer ${token}` } });
  } catch (e) {
    throw new Error(`cannot reach ${base}: check the address`, { cause: e });
  }
  if (res.status === 401) throw new Error("the API token is wrong or revoked: make a new one on your account page");
  if (!res.ok) throw new Error(`${base} answered ${res.status}: is it a guidecast server?`);
  const me = await res.json();
  await chrome.storage.local.set({ server: base, token });
  return { email: me.email, role: me.role };
}

const ACTIONS = {
  start: (m) => start(m.tabId, m.title),
  stop: () => stop(),
  pause: async () => {
    await load();
    if (rec && !rec.stopped) {
      await rec.add(Number(Object.keys(rec.tabs)[0]), { kind: "pause", t: Date.now() });
      persist();
      badge();
    }
    return status();
  },
  note: async (m) => {
    await load();
    if (rec && !rec.stopped && m.text) await rec.add(Number(Object.keys(rec.tabs)[0]), { kind: "note", text: m.text, t: Date.now() });
    persist();
    return status();
  },
  pick: async () => {
    await load();
    const main = rec && Object.keys(rec.tabs).find((id) => rec.tabs[id] === "main");
    if (main !== undefined && main !== null) await chrome.tabs.sendMessage(Number(main), { type: "pick" });
    return status();
  },
  status: async () => (await load(), status()),
  idle: async () => (await load(), { idle: pending === 0 && Date.now() - lastCapture > CAPTURE_GAP_MS }),
  send: () => send(),
  save: () => save(),
  discard: async () => {
    rec = null;
    persist();
    badge();
    return status();
  },
  connect: (m) => connect(m.server, m.token),
  settings: async () => chrome.storage.local.get(["server"]),
};

// the popup (also when opened as a page of its own): never a web page's content script
const fromExtension = (sender) => sender.id === chrome.runtime.id && (sender.url || "").startsWith(chrome.runtime.getURL(""));

chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  let work;
  if (msg && msg.type === "event" && sender.tab) {
    // one event at a time, in the order they came: a step's picture and its place in the log stay together
    pending++;
    work = events = events.then(() => onEvent(sender.tab.id, msg.event)).finally(() => pending--);
    events = events.catch(() => null);
  }
  else if (msg && msg.type === "blurred") work = Promise.resolve({ ok: true });
  else if (msg && ACTIONS[msg.type] && fromExtension(sender)) work = ACTIONS[msg.type](msg);
  else return false;
  work.then(reply, (e) => reply({ error: e.message || String(e) }));
  return true;
});

// -- following the recorded tabs --------------------------------------------------------------------------
chrome.webNavigation.onCommitted.addListener(async (d) => {
  await load();
  if (rec && !rec.stopped && d.frameId === 0) rec.committed(d.tabId, d.transitionType, d.transitionQualifiers);
});
chrome.webNavigation.onDOMContentLoaded.addListener(async (d) => {
  await load();
  if (rec && !rec.stopped && rec.follows(d.tabId)) await inject(d.tabId, [d.frameId]);
});
chrome.webNavigation.onCreatedNavigationTarget.addListener(async (d) => {
  await load();
  if (rec && !rec.stopped && rec.addPopup(d.tabId, d.sourceTabId)) persist();
});
chrome.tabs.onRemoved.addListener(async (tabId) => {
  await load();
  if (!rec || rec.stopped || !rec.follows(tabId)) return;
  const main = rec.tabs[tabId] === "main";
  rec.closeTab(tabId);
  if (main) rec.stopped = true;
  persist();
  badge();
});

chrome.commands.onCommand.addListener(async (command) => {
  await load();
  if (command !== "toggle-recording") return;
  if (rec && !rec.stopped) return stop();
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  if (tab) await start(tab.id, null);
});

// for the browser test (tests/test_extension.py) and the curious: the same calls the popup makes
globalThis.guidecast = { ...ACTIONS, status: () => status(), recording: () => rec };
