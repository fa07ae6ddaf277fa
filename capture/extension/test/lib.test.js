// node --test capture/extension/test/: the extension's own logic, without a browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, makeZip } from "../lib/zip.js";
import { Recording } from "../lib/recording.js";
import { uploadBundle, UploadError } from "../lib/upload.js";

const enc = new TextEncoder();

test("crc32 is the standard one", () => {
  assert.equal(crc32(enc.encode("123456789")), 0xcbf43926);
});

test("the zip reads back with Python's zipfile, names and bytes intact", () => {
  const files = [{ name: "recording.json", bytes: enc.encode('{"a": 1}') },
    { name: "screenshots/ab.png", bytes: new Uint8Array([137, 80, 78, 71, 0, 255]) }];
  const dir = mkdtempSync(join(tmpdir(), "gc-zip-"));
  const path = join(dir, "b.zip");
  writeFileSync(path, makeZip(files));
  const out = execFileSync("python3", ["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); " +
    "assert z.testzip() is None; print([(i.filename, list(z.read(i))) for i in z.infolist()])", path]).toString();
  assert.match(out, /'recording.json', \[123, 34, 97/);
  assert.match(out, /'screenshots\/ab.png', \[137, 80, 78, 71, 0, 255\]/);
});

test("a typed password becomes a salted reference, the same for the same value, never the value", async () => {
  const rec = new Recording({ tabId: 7 });
  const el = { input_type: "password" };
  const a = await rec.add(7, { kind: "fill", value: "hunter2-secret", element: el });
  const b = await rec.add(7, { kind: "fill", value: "hunter2-secret", element: el });
  const c = await rec.add(7, { kind: "fill", value: "other-secret", element: el, secret_kind: "password" });
  assert.match(a.value, /^secret:[0-9a-f]{24}$/);
  assert.equal(a.value, b.value);
  assert.notEqual(a.value, c.value);
  assert.equal(a.secret_kind, "password");
  const other = new Recording({ tabId: 7 });
  assert.notEqual((await other.add(7, { kind: "fill", value: "hunter2-secret", element: el })).value, a.value);
  const bytes = rec.bundle();
  assert.equal(Buffer.from(bytes).includes(Buffer.from("hunter2")), false);
});

test("only the tab it started in and the popups that tab opens are followed", () => {
  const rec = new Recording({ tabId: 1 });
  assert.equal(rec.follows(1), true);
  assert.equal(rec.follows(2), false);
  assert.equal(rec.addPopup(3, 2), null); // opened by a tab not recorded
  assert.equal(rec.addPopup(4, 1), "popup-1");
  rec.closeTab(4);
  assert.deepEqual(rec.events.map((e) => [e.kind, e.page]), [["tab", "popup-1"], ["close", "popup-1"]]);
});

test("a field photographed at its press is not photographed again for its focus or fill; nothing while paused", async () => {
  const rec = new Recording({ tabId: 1 });
  await rec.add(1, { kind: "focus", field: "f1", screenshot: "a.png" });
  assert.equal(rec.wantsShot({ kind: "focus", field: "f1" }), false);
  assert.equal(rec.wantsShot({ kind: "fill", field: "f1" }), false);
  await rec.add(1, { kind: "fill", field: "f1" });
  assert.equal(rec.wantsShot({ kind: "focus", field: "f1" }), true, "back in the field later: a new picture");
  assert.equal(rec.wantsShot({ kind: "fill", field: "f2" }), true);
  assert.equal(rec.wantsShot({ kind: "load" }), false);
  await rec.add(1, { kind: "pause" });
  assert.equal(rec.wantsShot({ kind: "click" }), false);
});

test("a navigation the person typed is told apart from one the page asked for", async () => {
  const rec = new Recording({ tabId: 1 });
  rec.committed(1, "link", []);
  assert.equal((await rec.add(1, { kind: "load", url: "http://a/x" })).asked, true);
  rec.committed(1, "typed", ["from_address_bar"]);
  assert.equal((await rec.add(1, { kind: "load", url: "http://a/y" })).asked, false);
});

// A server that answers like guidecast's recordings endpoint, failing the network now and then.
function fakeServer({ failEvery = 0, token = "t" } = {}) {
  const state = { data: new Uint8Array(0), calls: 0, size: 0, finished: false };
  const json = (status, body) => ({ ok: status < 400, status, json: async () => body });
  const fetchImpl = async (url, init = {}) => {
    state.calls++;
    if (failEvery && state.calls % failEvery === 0) throw new TypeError("Failed to fetch");
    if (init.headers.Authorization !== `Bearer ${token}`) return json(401, { detail: "invalid or revoked API token" });
    const u = new URL(url);
    if (u.pathname === "/api/recordings" && init.method === "POST") {
      state.size = JSON.parse(init.body).size;
      return json(201, { id: "abc", received: 0, part_size: 4 });
    }
    if (u.pathname === "/api/recordings/abc" && init.method === "PUT") {
      const offset = Number(u.searchParams.get("offset"));
      if (offset !== state.data.length) return json(409, { detail: "wrong offset" });
      const next = new Uint8Array(state.data.length + init.body.length);
      next.set(state.data);
      next.set(init.body, state.data.length);
      state.data = next;
      return json(200, { received: state.data.length });
    }
    if (u.pathname === "/api/recordings/abc") return json(200, { received: state.data.length, size: state.size });
    if (u.pathname === "/api/recordings/abc/finish") {
      state.finished = true;
      return json(201, { guide_id: 5, editor_url: "/guides/5/edit" });
    }
    return json(404, { detail: "no such route" });
  };
  return { state, fetchImpl };
}

test("the upload goes in parts and resumes where the server stopped after network errors", async () => {
  const bytes = enc.encode("a recording of twenty-nine b.");
  const { state, fetchImpl } = fakeServer({ failEvery: 3 });
  const seen = [];
  const done = await uploadBundle(bytes, { server: "http://gc.test/", token: "t", sha256: "x", fetchImpl,
    waitMs: 1, retries: 10, onProgress: (sent) => seen.push(sent) });
  assert.equal(done.guide_id, 5);
  assert.deepEqual(Array.from(state.data), Array.from(bytes));
  assert.equal(state.finished, true);
  assert.ok(seen.length >= 8, "at most 4 bytes a part");
});

test("a wrong token stops the upload with words a person can act on", async () => {
  const { fetchImpl } = fakeServer({ token: "right" });
  await assert.rejects(uploadBundle(enc.encode("x"), { server: "http://gc.test", token: "wrong", sha256: "x",
    fetchImpl, waitMs: 1 }), (e) => e instanceof UploadError && /API token is wrong/.test(e.message));
});

test("an unreachable server says the recording is kept", async () => {
  const fetchImpl = async () => { throw new TypeError("Failed to fetch"); };
  await assert.rejects(uploadBundle(enc.encode("x"), { server: "http://gc.test", token: "t", sha256: "x",
    fetchImpl, waitMs: 1, retries: 2 }), /the recording is kept/);
});
