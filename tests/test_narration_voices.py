"""Voices behind one seam: espeak-ng through pyttsx3 (offline), OpenAI TTS through the real openai client
against a small OpenAI-compatible server on 127.0.0.1, failures and timeouts of the engine."""
from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from guidecast.kernel.files import sha256_file
from guidecast.narration.manifest import load_manifest
from guidecast.narration.narrate import narrate_guide
from guidecast.narration.tts import SpeechCache, TTSError
from guidecast.narration.voice_espeak import Pyttsx3Engine
from guidecast.samples.synthetic_guide import make_guide
from tests.conftest import requires_ffmpeg
from tests.test_cli_errors import assert_clean_error, run_cli
from tests.test_narration_video import FPS, decode_audio, frame_at, highlight_pixels

pytestmark = [requires_ffmpeg, pytest.mark.video]


class FakeOpenAI(BaseHTTPRequestHandler):
    """POST /v1/audio/speech: speech made by espeak-ng, or a failure chosen by `server.mode`."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        mode = self.server.mode
        if mode == "slow":
            time.sleep(3)
        if mode == "error":
            return self._send(500, b'{"error": {"message": "engine overloaded"}}', "application/json")
        if mode == "junk":
            return self._send(200, b"this is not audio at all" * 40, "audio/wav")
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "speech.wav"
            subprocess.run(["espeak-ng", "-w", str(wav), body["input"]], check=True)
            self._send(200, wav.read_bytes(), "audio/wav")

    def _send(self, code: int, data: bytes, kind: str) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def openai_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    server.requests, server.mode = [], "ok"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def fake(openai_server):
    openai_server.mode = "ok"
    openai_server.requests.clear()
    return openai_server


NO_KEY = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}


def openai_cli(guide: Path, out: Path, server, *extra: str):
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    return run_cli("narrate", str(guide), "-o", str(out), "--cache-dir", str(out.parent / "cache"),
                   "--engine", "openai", "--tts-base-url", url, *extra, env=NO_KEY)


def test_openai_voice_through_a_compatible_server(fake, tmp_path):
    guide = make_guide(tmp_path / "guide", steps=2)
    proc = openai_cli(guide, tmp_path / "video", fake, "--voice", "nova", "--tts-model", "tts-test", "--rate", "198")
    assert proc.returncode == 0, proc.stderr
    m = load_manifest(tmp_path / "video")
    assert (m.engine, m.engine_model, m.voice) == ("openai", "openai:tts-test", "nova")
    req = fake.requests
    assert len(req) == 4 and {r["path"] for r in req} == {"/v1/audio/speech"}
    assert {(r["model"], r["voice"], r["speed"]) for r in req} == {("tts-test", "nova", 1.2)}
    assert req[1]["input"] == "Click New expense."
    assert all(s.audio_duration > 0.4 for s in m.segments)
    audio = decode_audio(tmp_path / "video" / "guide.mp4")
    assert np.abs(audio).max() > 0.2, "real speech in the video"
    # cached by text, engine and model: the same model asks nothing, another model asks again
    assert openai_cli(guide, tmp_path / "video", fake, "--voice", "nova", "--tts-model", "tts-test",
                      "--rate", "198").returncode == 0
    assert len(fake.requests) == 4
    assert openai_cli(guide, tmp_path / "video", fake, "--voice", "nova", "--tts-model", "tts-other",
                      "--rate", "198").returncode == 0
    assert len(fake.requests) == 8


def test_engine_timeout_publishes_nothing(fake, tmp_path):
    fake.mode = "slow"
    guide = make_guide(tmp_path / "guide", steps=1)
    proc = openai_cli(guide, tmp_path / "video", fake, "--tts-timeout", "0.4")
    assert_clean_error(proc, "the intro", "did not answer within 0.4 s", "--tts-timeout")
    assert not (tmp_path / "video").exists()


def test_engine_failure_keeps_the_previous_video(fake, tmp_path):
    guide = make_guide(tmp_path / "guide", steps=1)
    narrate_guide(guide, tmp_path / "video", engine="silent", cache_dir=tmp_path / "cache")
    before = sha256_file(tmp_path / "video" / "guide.mp4")
    fake.mode = "error"
    assert_clean_error(openai_cli(guide, tmp_path / "video", fake), "HTTP 500", "engine overloaded")
    fake.mode = "junk"
    assert_clean_error(openai_cli(guide, tmp_path / "video", fake), "the intro", "cannot be decoded")
    assert sha256_file(tmp_path / "video" / "guide.mp4") == before
    assert load_manifest(tmp_path / "video").engine == "silent"


def test_openai_voice_needs_a_key_or_an_endpoint(tmp_path):
    guide = make_guide(tmp_path / "guide", steps=1)
    proc = run_cli("narrate", str(guide), "-o", str(tmp_path / "video"), "--engine", "openai", env=NO_KEY)
    assert_clean_error(proc, "OPENAI_API_KEY", "--tts-base-url")


def test_voices_command_lists_engine_voices():
    de = run_cli("voices", "--language", "de")
    assert de.returncode == 0 and de.stdout.split()[0] == "gmw/de"
    assert "alloy" in run_cli("voices", "--engine", "openai").stdout


def test_espeak_voice_language_and_rate(tmp_path):
    eng = Pyttsx3Engine(language="ru")
    assert eng.resolve_voice(None) == "zle/ru"
    eng.check("Нажмите кнопку Save", None)
    with pytest.raises(TTSError, match="not installed"):
        eng.resolve_voice("xx/klingon")
    with pytest.raises(TTSError, match="no espeak-ng voice speaks"):
        Pyttsx3Engine(language="tlh").resolve_voice(None)
    slow = SpeechCache(tmp_path / "s", Pyttsx3Engine(), "gmw/en", 110).synthesize("Click the Submit button now.")
    fast = SpeechCache(tmp_path / "s", Pyttsx3Engine(), "gmw/en", 240).synthesize("Click the Submit button now.")
    assert slow.duration > 1.4 * fast.duration and slow.sha256 != fast.sha256


def test_real_guide_with_the_offline_voice_is_loudness_normalised_and_zooms(submit_expense_guide, tmp_path):
    m = narrate_guide(submit_expense_guide, tmp_path / "video", engine="pyttsx3", cache_dir=tmp_path / "cache")
    assert m.engine == "pyttsx3" and m.voice == "gmw/en"
    assert all(s.audio_duration > 0.5 for s in m.segments)
    out = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(tmp_path / "video" / "guide.mp4"), "-map", "0:a",
                          "-af", "ebur128", "-f", "null", "-"], capture_output=True, text=True).stderr
    loudness = float(out.rsplit("I:", 1)[1].split("LUFS")[0])
    assert loudness == pytest.approx(-16, abs=1.5)
    step = next(s for s in m.segments if s.id == "sign-in")
    first = frame_at(tmp_path / "video" / "guide.mp4", step.start)
    middle = frame_at(tmp_path / "video" / "guide.mp4", step.start + step.duration / 2)
    assert highlight_pixels(middle) > 1.3 * highlight_pixels(first) > 0
    assert round(step.start * FPS) == step.start * FPS
