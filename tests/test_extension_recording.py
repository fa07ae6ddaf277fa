"""Recordings of the browser extension without a browser: a bundle in the shape the extension writes
(recording.json with recorder.js's events, screenshots) becomes a workflow and a capture through the
recorder's step logic; the recordings endpoint takes it in parts with the checks of an upload; the web
upload and `guidecast import` take the same file; the Install the recorder page serves the extension."""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
import yaml
from PIL import Image

from tests.conftest import REPO

BASE = "http://127.0.0.1:5999"
REF = "secret:0123456789abcdef01234567"  # what the extension sends in place of a typed password


def _png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 255, (360, 640, 3), dtype=np.uint8))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def _shot(name_bytes: bytes) -> str:
    return hashlib.sha256(name_bytes).hexdigest()[:32] + ".png"


def _el(role, name, tag="input", input_type="text", **kw):
    cands = [{"loc": {"role": role, "name": name}, "count": 1}, {"loc": {"css": f"#{name.lower()}"}, "count": 1}]
    return {"role": role, "name": name, "label": name if tag == "input" else None, "tag": tag,
            "input_type": input_type if tag == "input" else None, "text": None if tag == "input" else name,
            "candidates": cands, "what": name, "box": {"x": 100, "y": 50, "width": 200, "height": 30}, **kw}


def recording(shots: list[bytes]) -> dict:
    a, b, c, final = (_shot(s) for s in shots)
    ev = lambda kind, **kw: {"kind": kind, "page": "main", "t": 1000 + len(kw), "url": BASE + "/login",  # noqa: E731
                              "title": "Sign in · Expensely", "dpr": 1, **kw}
    return {"format": "guidecast-recording", "schema_version": 1, "title": "Sign in", "browser": "Chrome",
            "viewport": {"width": 640, "height": 360}, "final": {"screenshot": final, "url": BASE + "/home",
                                                                  "title": "Home · Expensely"},
            "events": [
                ev("load", nav_type="navigate"),
                ev("focus", field="f1", screenshot=a),
                ev("fill", field="f1", value="alex@example.com", element=_el("textbox", "Email")),
                ev("focus", field="f2", screenshot=b, blurred=[{"x": 98, "y": 48, "width": 204, "height": 34}]),
                ev("fill", field="f2", value=REF, secret_kind="password",
                   element=_el("textbox", "Password", input_type="password")),
                ev("click", screenshot=c, element=_el("button", "Sign in", tag="button")),
                ev("note", text="Use your work account."),
                ev("load", nav_type="navigate", url=BASE + "/home", asked=True),
            ]}


def bundle_bytes(doc: dict | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    shots = [_png(i) for i in range(4)]
    doc = doc or recording(shots)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("recording.json", json.dumps(doc))
        for s in shots:
            zf.writestr(f"screenshots/{_shot(s)}", s)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_a_recording_becomes_the_workflow_and_capture_the_recorder_makes(tmp_path):
    from guidecast.capture.bundle import load_capture
    from guidecast.capture.extension_recording import convert_recording, opened_bundle

    (tmp_path / "rec.zip").write_bytes(bundle_bytes())
    with opened_bundle(tmp_path / "rec.zip") as folder:
        wf, capture, warnings = convert_recording(folder, tmp_path / "flow.yaml")
    flow = yaml.safe_load((tmp_path / "flow.yaml").read_text())
    assert [s["action"] for s in flow["steps"]] == ["fill", "fill", "click"]
    assert flow["steps"][0]["target"] == {"role": "textbox", "name": "Email"}
    assert flow["steps"][1]["secret"] == "password" and "value" not in flow["steps"][1]
    assert flow["secrets"] == {"password": "EXPENSELY_PASSWORD"}
    assert flow["steps"][2]["note"] == "Use your work account."
    assert flow["start_url"] == "/login" and flow["base_url"] == BASE  # the page's own navigation is no step
    assert REF not in (tmp_path / "flow.yaml").read_text()
    cap = load_capture(capture)
    assert cap.final_title == "Home · Expensely" and len(cap.steps) == 3
    # the password field's box, masked in the page, is blurred into the pixels of its picture too
    shot = np.asarray(Image.open(capture / "screenshots" / cap.steps[1].screenshot).convert("L"), float)
    raw = np.asarray(Image.open(io.BytesIO(_png(1))).convert("L"), float)
    assert shot[50:80, 100:300].std() < raw[50:80, 100:300].std() / 3
    assert np.abs(shot[200:, :] - raw[200:, :]).mean() < 1  # and nothing else
    assert cap.steps[0].element.box.width == 200 and warnings == []


def test_a_bad_recording_names_what_is_wrong(tmp_path):
    from guidecast.capture.extension_recording import load_recording
    from guidecast.kernel.errors import GuidecastError

    doc = recording([_png(i) for i in range(4)])
    doc["events"][2]["kind"] = "explode"
    (tmp_path / "recording.json").write_text(json.dumps(doc))
    with pytest.raises(GuidecastError, match=r"recording.json: events.2.kind"):
        load_recording(tmp_path)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from guidecast.server.auth import new_api_token
    from guidecast.server.models import User
    from guidecast.server.settings import load_settings
    from guidecast.server.testing import add_user, running_server

    st = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("server"), tts_engine="silent",
                       max_upload_bytes=8 << 20)
    with running_server(st) as (url, app):
        uid = add_user(app, "rec@example.com", "editor")
        vid = add_user(app, "viewer@example.com", "viewer")
        with app.state.ctx.db.session() as s:
            token, _ = new_api_token(s, s.get(User, uid), "recorder")
            viewer, _ = new_api_token(s, s.get(User, vid), "recorder")
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
            yield {"client": c, "url": url, "viewer": viewer}


def _send(c: httpx.Client, body: bytes, part: int = 100_000) -> httpx.Response:
    r = c.post("/api/recordings", json={"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    for at in range(0, len(body), part):
        r = c.put(f"/api/recordings/{rid}", params={"offset": at}, content=body[at:at + part])
        assert r.status_code == 200, r.text
    return c.post(f"/api/recordings/{rid}/finish")


def test_the_endpoint_takes_a_recording_in_parts_and_composes_its_guide(server):
    from guidecast.server.testing import wait_jobs

    c = server["client"]
    body = bundle_bytes()
    r = c.post("/api/recordings", json={"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})
    rid = r.json()["id"]
    assert c.put(f"/api/recordings/{rid}", params={"offset": 0}, content=body[:1000]).json()["received"] == 1000
    r = c.put(f"/api/recordings/{rid}", params={"offset": 0}, content=body[:1000])  # a part sent twice
    assert r.status_code == 409 and "holds 1000 bytes" in r.json()["detail"]
    assert c.get(f"/api/recordings/{rid}").json()["received"] == 1000  # where to resume
    assert c.post(f"/api/recordings/{rid}/finish").status_code == 409  # not all there yet
    for at in range(1000, len(body), 500_000):
        assert c.put(f"/api/recordings/{rid}", params={"offset": at}, content=body[at:at + 500_000]).status_code == 200
    done = c.post(f"/api/recordings/{rid}/finish")
    assert done.status_code == 201, done.text
    gid = done.json()["guide_id"]
    assert done.json()["editor_url"] == f"/guides/{gid}/edit"
    wait_jobs(c, gid)
    base = c.get(f"/api/guides/{gid}/edits").json()["base"]
    assert len(base["steps"]) == 3 and "Sign in" in base["steps"][2]["text"]
    assert c.get(f"/api/recordings/{rid}").status_code == 404  # finished uploads are gone


def test_the_endpoint_refuses_what_an_upload_refuses(server):
    c = server["client"]
    anonymous = httpx.post(server["url"] + "/api/recordings", json={"size": 1, "sha256": "0" * 64})
    assert anonymous.status_code == 403  # neither a token nor a session's CSRF token
    wrong = httpx.post(server["url"] + "/api/recordings", json={"size": 1, "sha256": "0" * 64},
                       headers={"Authorization": "Bearer gct_not-a-token"})
    assert wrong.status_code == 401 and "token" in wrong.json()["detail"]
    viewer = httpx.post(server["url"] + "/api/recordings", json={"size": 1, "sha256": "0" * 64},
                        headers={"Authorization": f"Bearer {server['viewer']}"})
    assert viewer.status_code == 403
    assert c.post("/api/recordings", json={"size": 9 << 20, "sha256": "0" * 64}).status_code == 413
    assert c.post("/api/recordings", json={"size": 10, "sha256": "nothex"}).status_code == 422
    r = c.post("/api/recordings", json={"size": 10, "sha256": "0" * 64})
    rid = r.json()["id"]
    assert c.put(f"/api/recordings/{rid}", params={"offset": 0}, content=b"x" * (2 << 20)).status_code == 413
    assert c.put(f"/api/recordings/{rid}", params={"offset": 0}, content=b"x" * 11).status_code == 422
    c.put(f"/api/recordings/{rid}", params={"offset": 0}, content=b"x" * 10)
    r = c.post(f"/api/recordings/{rid}/finish")
    assert r.status_code == 422 and "damaged" in r.json()["detail"]
    r = _send(c, bundle_bytes(extra={"screenshots/page.html": b"<script>alert(1)</script>"}))
    assert r.status_code == 400 and "page.html" in r.json()["detail"]
    doc = recording([_png(i) for i in range(4)])
    doc["events"][1]["screenshot"] = "0" * 32 + ".png"
    r = _send(c, bundle_bytes(doc))
    assert r.status_code == 400 and "does not hold" in r.json()["detail"]
    shots = [_png(i) for i in range(4)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # a picture that is no PNG under a screenshot's name
        zf.writestr("recording.json", json.dumps(recording(shots)))
        for i, s in enumerate(shots):
            zf.writestr(f"screenshots/{_shot(s)}", b"GIF89a not a picture" if i == 2 else s)
    r = _send(c, buf.getvalue())
    assert r.status_code == 400 and "not a PNG" in r.json()["detail"]
    assert c.get("/api/recordings/not-an-id").status_code == 404


def test_the_web_upload_and_guidecast_import_take_the_saved_file(server, tmp_path):
    from guidecast.server.testing import upload

    r = upload(server["client"], "guidecast-recording-2026-12-02.zip", bundle_bytes())
    assert r.status_code == 201, r.text
    (tmp_path / "rec.zip").write_bytes(bundle_bytes())
    out = subprocess.run([sys.executable, "-m", "guidecast", "import", str(tmp_path / "rec.zip"), "-o",
                          str(tmp_path / "flow.yaml")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "3 steps" in out.stdout and "export EXPENSELY_PASSWORD" in out.stdout
    assert (tmp_path / "flow.capture" / "capture.json").is_file()
    (tmp_path / "bad.zip").write_bytes(bundle_bytes(extra={"notes.txt": b"hi"}))
    bad = subprocess.run([sys.executable, "-m", "guidecast", "import", str(tmp_path / "bad.zip"), "-o",
                          str(tmp_path / "bad.yaml")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "notes.txt" in bad.stderr and "Traceback" not in bad.stderr


def test_the_install_page_offers_the_extension_built_from_the_shared_recorder(server):
    c = server["client"]
    page = c.get("/recorder")
    assert page.status_code == 200 and "Install the recorder" in page.text and "Alt+Shift+R" in page.text
    z = zipfile.ZipFile(io.BytesIO(c.get("/recorder/guidecast-recorder.zip").content))
    manifest = json.loads(z.read("guidecast-recorder/manifest.json"))
    assert manifest["manifest_version"] == 3 and "toggle-recording" in manifest["commands"]
    content = z.read("guidecast-recorder/content.js").decode()
    recorder = (REPO / "capture" / "recorder.js").read_text()
    assert "__guidecastRecorder" in content and "__ARIA__" not in content and "__SECRET_PATTERNS__" not in content
    own = recorder.split("// -- describing an element")[1].split("// -- text fields")[0]
    assert len(own) > 2000 and own in content  # the recorder itself, spliced in, not a copy of it
    assert set(manifest["background"].values()) >= {"background.js"}
    for name in ("background.js", "popup.html", "popup.js", "lib/recording.js", "lib/upload.js", "lib/zip.js"):
        assert f"guidecast-recorder/{name}" in z.namelist()
    bridge = Path(REPO / "capture" / "extension" / "bridge.js").read_text()
    assert bridge.split("function luhnOk")[1].split("window.__guidecastSecretKind")[0] in content


def test_a_recorded_app_off_the_capture_allowlist_is_never_replayed(server):
    """The server keeps the recorded app URL; a freshness check (a replay) checks it against the capture
    allowlist first, which this server's is empty of."""
    c = server["client"]
    done = _send(c, bundle_bytes())
    gid = done.json()["guide_id"]
    r = c.post(f"/api/guides/{gid}/check", json={})
    assert r.status_code == 403 and "allowlist" in r.json()["detail"] and "127.0.0.1:5999" in r.json()["detail"]
