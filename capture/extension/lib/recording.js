// One recording in the service worker: the tabs it follows, the events recorder.js reported (in the
// order they came), the screenshots, and the bundle made of them. No chrome.* here: node tests it.
import { makeZip } from "./zip.js";

export const FORMAT = "guidecast-recording";
export const BUNDLE_FILE = "recording.json";
export const SHOT_DIR = "screenshots";
// Events that carry no screenshot (the toolbar's and the navigation bookkeeping).
export const SILENT = new Set(["hello", "pause", "stop", "note", "load", "tab", "close"]);

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

export async function sha256Hex(bytes) {
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

export function dataUrlBytes(url) {
  const b64 = url.slice(url.indexOf(",") + 1);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export class Recording {
  constructor({ title = null, tabId = null, salt = null, startedAt = Date.now() } = {}) {
    this.title = title;
    this.startedAt = startedAt;
    this.salt = salt || bytesBase64(crypto.getRandomValues(new Uint8Array(16)));
    this.tabs = {}; // tab id -> name (main, popup-1, ...)
    this.popups = 0;
    this.events = [];
    this.shots = {}; // file name -> base64 PNG
    this.fieldShots = new Set(); // text fields photographed when they got the focus
    this.typedShots = new Set(); // text fields photographed when the typing paused
    this.paused = false;
    this.stopped = false;
    this.lastCommit = {}; // tab name -> did the page itself ask for its last navigation
    this.final = null;
    this.viewport = null;
    if (tabId !== null) this.tabs[tabId] = "main";
  }

  static restore(data) {
    const r = new Recording({ title: data.title, salt: data.salt, startedAt: data.startedAt });
    Object.assign(r, data, { fieldShots: new Set(data.fieldShots || []), typedShots: new Set(data.typedShots || []) });
    return r;
  }

  toJSON() {
    return { ...this, fieldShots: Array.from(this.fieldShots), typedShots: Array.from(this.typedShots) };
  }

  follows(tabId) {
    return tabId in this.tabs;
  }

  /** A tab opened by a followed tab: it is followed too, as popup-N. */
  addPopup(tabId, openerTabId) {
    if (!this.follows(openerTabId) || this.follows(tabId)) return null;
    const name = `popup-${++this.popups}`;
    this.tabs[tabId] = name;
    this.events.push({ kind: "tab", page: name, opener: this.tabs[openerTabId], t: Date.now() });
    return name;
  }

  closeTab(tabId) {
    if (!this.follows(tabId)) return;
    this.events.push({ kind: "close", page: this.tabs[tabId], t: Date.now() });
    delete this.tabs[tabId];
  }

  /** How the tab's last navigation started: by the page (link, form, script) or by the person (typed). */
  committed(tabId, transitionType, qualifiers) {
    if (!this.follows(tabId)) return;
    const asked = ["link", "form_submit"].includes(transitionType) || (qualifiers || []).includes("client_redirect");
    const typed = (qualifiers || []).includes("from_address_bar") || ["typed", "auto_bookmark", "generated"].includes(transitionType);
    this.lastCommit[this.tabs[tabId]] = asked && !typed;
  }

  /** Does this event get a screenshot? (not paused, not bookkeeping, a fill only if its field had none) */
  wantsShot(ev) {
    if (this.paused || this.stopped || SILENT.has(ev.kind)) return false;
    if (["focus", "fill", "check", "uncheck"].includes(ev.kind) && ev.field && this.fieldShots.has(ev.field)) return false;
    if (ev.kind === "press" && ev.field && this.typedShots.has(ev.field)) return false;
    return true;
  }

  /** The event as it is kept: the tab's name, a reference instead of any secret value. */
  async add(tabId, ev) {
    const page = this.tabs[tabId];
    const kept = { ...ev, page };
    if (ev.kind === "fill" && ev.element && ev.element.input_type === "password") kept.secret_kind = "password";
    if (ev.kind === "fill" && kept.secret_kind) kept.value = await this.secretRef(ev.value || "");
    if (ev.kind === "load" && page in this.lastCommit) kept.asked = this.lastCommit[page];
    if (ev.kind === "pause") this.paused = !this.paused;
    if (ev.kind === "focus" && ev.field && ev.screenshot) this.fieldShots.add(ev.field);
    if (["fill", "check", "uncheck"].includes(ev.kind) && ev.field) this.fieldShots.delete(ev.field); // used
    if (ev.kind === "typed" && ev.field && ev.screenshot) this.typedShots.add(ev.field);
    if (ev.kind === "press" && ev.field) this.typedShots.delete(ev.field);
    this.events.push(kept);
    return kept;
  }

  /** `secret:` plus a salted hash: equal values get equal references, the value never leaves the browser. */
  async secretRef(value) {
    const bytes = new TextEncoder().encode(this.salt + "\u0000" + value);
    return "secret:" + (await sha256Hex(bytes)).slice(0, 24);
  }

  async addShot(dataUrl) {
    const bytes = dataUrlBytes(dataUrl);
    const name = (await sha256Hex(bytes)).slice(0, 32) + ".png";
    this.shots[name] = bytesBase64(bytes);
    return name;
  }

  get steps() {
    return this.events.filter((e) => !SILENT.has(e.kind) && !["focus", "typed"].includes(e.kind)).length;
  }

  document() {
    return {
      format: FORMAT, schema_version: 1, title: this.title, started_at: new Date(this.startedAt).toISOString(),
      browser: typeof navigator !== "undefined" ? navigator.userAgent : "chromium",
      viewport: this.viewport, events: this.events, final: this.final,
    };
  }

  /** The bundle file: recording.json and screenshots/<hash>.png in a zip. */
  bundle() {
    const enc = new TextEncoder();
    const files = [{ name: BUNDLE_FILE, bytes: enc.encode(JSON.stringify(this.document())) }];
    for (const [name, b64] of Object.entries(this.shots)) {
      const bin = atob(b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      files.push({ name: `${SHOT_DIR}/${name}`, bytes });
    }
    return makeZip(files);
  }
}
