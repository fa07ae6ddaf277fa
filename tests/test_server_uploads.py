"""Hostile uploads are refused before anything reads them: oversized bodies, zip bombs, too many
files, path traversal, links, and screenshots that are not PNG images."""
from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import httpx
import pytest

from guidecast.server.settings import load_settings
from guidecast.server.testing import add_user, running_server, sign_in, upload, zip_folder

LIMIT = 2_000_000


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    st = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("uploads"), max_upload_bytes=LIMIT,
                       max_unzipped_bytes=3_000_000, max_zip_files=40)
    with running_server(st) as (url, app):
        add_user(app, "ed@example.com", "editor")
        with httpx.Client(base_url=url, follow_redirects=True, timeout=60) as c:
            yield sign_in(c, "ed@example.com")


@pytest.fixture(scope="module")
def bundle(submit_expense_capture) -> Path:
    return submit_expense_capture


def _zip(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def _capture_with(bundle: Path, replace: dict[str, bytes]) -> bytes:
    entries = {p.relative_to(bundle).as_posix(): p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    entries.update(replace)
    return _zip(entries)


def _first_shot(bundle: Path) -> str:
    return "screenshots/" + json.loads((bundle / "capture.json").read_text())["steps"][0]["screenshot"]


def test_a_good_bundle_is_accepted(client, bundle):
    assert upload(client, "ok.zip", zip_folder(bundle)).status_code == 201


def test_oversized_upload_is_413(client):
    r = upload(client, "big.zip", b"\0" * (LIMIT + 1000))
    assert r.status_code == 413


def test_oversized_chunked_upload_is_413(client):
    def body():  # no Content-Length: the limit is enforced while the body streams in
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.zip"\r\n\r\n'
        for _ in range(40):
            yield b"x" * 100_000

    r = client.post("/api/guides", content=body(), headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413


@pytest.mark.parametrize("name", ["../evil.txt", "capture/../../evil.txt", "/etc/cron.d/evil", "C:/evil.txt",
                                  "capture\\..\\evil.txt"])
def test_path_traversal_is_refused(client, name):
    r = upload(client, "t.zip", _zip({"capture.json": b"{}", name: b"owned"}))
    assert r.status_code == 400 and "refused" in r.text


def test_symlink_entry_is_refused(client):
    r = upload(client, "l.zip", _zip({"capture.json": b"{}"}, symlink="screenshots/link.png"))
    assert r.status_code == 400 and "symbolic link" in r.text


def test_zip_bomb_is_refused(client):
    bomb = _zip({"capture.json": b"{}", "screenshots/a.png": b"\0" * 20_000_000})
    assert len(bomb) < LIMIT
    r = upload(client, "bomb.zip", bomb)
    assert r.status_code == 413 and "unpacks to more than" in r.text


def test_zip_bomb_with_lying_headers_is_stopped_while_extracting(client, tmp_path):
    from guidecast.server.uploads import UploadError, safe_extract

    data = bytearray(_zip({"big.bin": b"\0" * 5_000_000}))
    # rewrite the declared uncompressed size (central directory and local header) to 10 bytes
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    data[22:26] = (10).to_bytes(4, "little")
    archive = tmp_path / "lie.zip"
    archive.write_bytes(bytes(data))
    with pytest.raises(UploadError) as e:
        safe_extract(archive, tmp_path / "x", max_bytes=1_000_000, max_files=10)
    assert e.value.http_status in (400, 413)
    assert not (tmp_path / "x" / "big.bin").exists() or (tmp_path / "x" / "big.bin").stat().st_size <= 1_000_000


def test_too_many_files_is_refused(client):
    r = upload(client, "many.zip", _zip({f"f{i}.txt": b"x" for i in range(50)}))
    assert r.status_code == 413 and "entries" in r.text


@pytest.mark.parametrize("payload,why", [
    (b"GIF89a" + b"\0" * 100, "not a PNG image"),
    (b"<svg onload=alert(1)></svg>", "not a PNG image"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 50, "not a valid PNG image"),
])
def test_non_png_screenshot_is_refused(client, bundle, payload, why):
    r = upload(client, "bad.zip", _capture_with(bundle, {_first_shot(bundle): payload}))
    assert r.status_code == 400 and why in r.text


def test_not_a_zip_and_unknown_types_are_refused(client):
    assert upload(client, "x.zip", b"not a zip").status_code == 400
    assert upload(client, "x.exe", b"MZ").status_code == 400
    assert upload(client, "e.zip", _zip({"readme.txt": b"hi"})).status_code == 400
    r = upload(client, "wf.yaml", b"steps: [unclosed")
    assert r.status_code == 400 and "workflow" in r.text


def test_bad_capture_json_is_refused(client, bundle):
    r = upload(client, "cj.zip", _capture_with(bundle, {"capture.json": b'{"schema_version": 1, "bogus": true}'}))
    assert r.status_code == 400 and "capture.json" in r.text


def test_form_upload_shows_an_error_page(client):
    r = client.post("/guides/upload", files={"file": ("t.zip", _zip({"../x": b"1"}))}, data={"base_url": ""})
    assert r.status_code == 400 and "refused" in r.text and "<html" in r.text
