"""Voices behind one seam: `synthesize(text, voice, rate) -> (wav file, duration)`, cached by content hash.

Every engine's output is normalised to 24 kHz mono 16-bit WAV so segments join sample-exactly.
"""
from __future__ import annotations

import contextlib
import io
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from capture.errors import GuidecastError
from capture.files import sha256_bytes
from narration.media import run_ffmpeg

SAMPLE_RATE = 24000


class TTSError(GuidecastError):
    """A voice engine failed."""


@dataclass(frozen=True)
class Speech:
    path: Path
    duration: float
    sha256: str


class Engine(Protocol):
    name: str

    def render(self, text: str, voice: str | None, rate: int | None, out: Path) -> None:
        """Write speech for `text` to `out` (any format ffmpeg reads)."""


class SilentEngine:
    """No sound, a duration proportional to the text: for fast tests and drafts."""

    name = "silent"

    def render(self, text: str, voice: str | None, rate: int | None, out: Path) -> None:
        words = max(1, len(text.split()))
        seconds = max(0.8, words / ((rate or 170) / 60.0))
        _write_silence(out, seconds)


class Pyttsx3Engine:
    """pyttsx3 over espeak-ng: the offline default."""

    name = "pyttsx3"

    def __init__(self) -> None:
        self._engine = None

    def _get(self):
        if self._engine is None:
            try:
                import pyttsx3

                with contextlib.redirect_stdout(io.StringIO()):
                    self._engine = pyttsx3.init()
            except Exception as e:  # noqa: BLE001 - driver load failure is environmental
                raise TTSError(
                    f"the offline voice (pyttsx3/espeak-ng) could not start: {e}; install espeak-ng "
                    "(`apt-get install espeak-ng`) or choose --engine silent"
                ) from None
        return self._engine

    def voices(self) -> list[str]:
        return [v.id for v in self._get().getProperty("voices")]

    def render(self, text: str, voice: str | None, rate: int | None, out: Path) -> None:
        eng = self._get()
        if voice:
            if voice not in self.voices():
                raise TTSError(f"voice '{voice}' is not installed for pyttsx3; choose one of: "
                               + ", ".join(v for v in self.voices() if "en" in v)[:300])
            eng.setProperty("voice", voice)
        if rate:
            eng.setProperty("rate", rate)
        # pyttsx3 2.99's espeak driver returns an empty file on every other call: try again once.
        for _attempt in range(3):
            with contextlib.redirect_stdout(io.StringIO()):
                eng.save_to_file(text, str(out))
                eng.runAndWait()
            if out.exists() and out.stat().st_size > 100:
                return
        raise TTSError(f"the offline voice produced no audio for: {text[:60]!r}")


ENGINES = {"pyttsx3": Pyttsx3Engine, "silent": SilentEngine}


def make_engine(name: str) -> Engine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise TTSError(f"unknown voice engine '{name}'; choose one of: {', '.join(sorted(ENGINES))}") from None


class SpeechCache:
    """Speech files keyed by a hash of (text, engine, voice, rate)."""

    def __init__(self, folder: Path, engine: Engine, voice: str | None = None, rate: int | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.engine, self.voice, self.rate = engine, voice, rate

    def key(self, text: str) -> str:
        return sha256_bytes(f"{self.engine.name}\0{self.voice}\0{self.rate}\0{text}".encode())[:32]

    def synthesize(self, text: str) -> Speech:
        text = text.strip()
        if not text:
            raise TTSError("empty narration text: give the step some text or a narration override")
        path = self.folder / f"{self.key(text)}.wav"
        if not path.exists():
            with tempfile.TemporaryDirectory(dir=self.folder) as tmp:
                raw = Path(tmp) / "raw.wav"
                self.engine.render(text, self.voice, self.rate, raw)
                norm = Path(tmp) / "norm.wav"
                run_ffmpeg(["-i", str(raw), "-ac", "1", "-ar", str(SAMPLE_RATE), "-sample_fmt", "s16", str(norm)],
                           "normalising speech audio")
                norm.replace(path)
        data = path.read_bytes()
        return Speech(path=path, duration=wav_duration(path), sha256=sha256_bytes(data))


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


def _write_silence(out: Path, seconds: float) -> None:
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(b"\0\0" * int(seconds * SAMPLE_RATE))
