"""The offline voice: pyttsx3 over espeak-ng, voice or language and rate selectable."""
from __future__ import annotations

import contextlib
import difflib
import io
from pathlib import Path

from guidecast.narration.languages import unreadable_script
from guidecast.narration.tts import EngineBase, TTSError, VoiceInfo

DEFAULT_VOICE = "gmw/en"


class Pyttsx3Engine(EngineBase):
    """pyttsx3 over espeak-ng: the offline default. `language` picks a voice when none is named."""

    name = "pyttsx3"

    def __init__(self, language: str | None = None, **_ignored) -> None:
        self.language = language
        self.cache_id = f"pyttsx3:{language or ''}"
        self._engine = None
        self._voices: list[VoiceInfo] | None = None

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

    def voices(self) -> list[VoiceInfo]:
        if self._voices is None:
            self._voices = [VoiceInfo(v.id, v.name, tuple(str(x) for x in (v.languages or ())))
                            for v in self._get().getProperty("voices")]
        return self._voices

    def _info(self, voice_id: str) -> VoiceInfo | None:
        return next((v for v in self.voices() if v.id == voice_id), None)

    def resolve_voice(self, voice: str | None) -> str:
        if voice:
            if self._info(voice) is None:
                ids = [v.id for v in self.voices()]
                near = difflib.get_close_matches(voice, ids, n=8, cutoff=0.6) or \
                    [i for i in ids if i.startswith("gmw/en")]  # nothing close: the English voices
                raise TTSError(f"voice '{voice}' is not installed for espeak-ng; try one of: {', '.join(near[:8])} "
                               "(all: `guidecast voices`)")
            return voice
        if self.language:
            lang = self.language.lower()
            for v in self.voices():
                if lang in (x.lower() for x in v.languages) or v.id.lower().endswith("/" + lang):
                    return v.id
            for v in self.voices():  # "de" also finds "de-ch"
                if any(x.lower().split("-")[0] == lang for x in v.languages):
                    return v.id
            raise TTSError(f"no espeak-ng voice speaks language '{self.language}'; see `guidecast voices`")
        return DEFAULT_VOICE

    def check(self, text: str, voice: str | None) -> None:
        info = self._info(self.resolve_voice(voice))
        language = (info.languages[0] if info and info.languages else "en")
        script = unreadable_script(text, language)
        if script:
            raise TTSError(f"the text is written in {script}, which the voice '{info.id if info else voice}' "
                           f"({info.name if info else language}) cannot read; choose a voice for that language "
                           "with --voice or --language (see `guidecast voices`)")

    def render(self, text: str, voice: str | None, rate: int | None, out: Path) -> None:
        eng = self._get()
        # espeak-ng runs pyttsx3's requests on its own thread (AUDIO_OUTPUT_RETRIEVAL is asynchronous), so a
        # voice or rate change can overtake or trail an utterance still in flight: wait for espeak to be idle
        # around every change and every utterance, and set the properties on the driver directly.
        sync = _espeak_synchronize()
        driver = getattr(getattr(eng, "proxy", None), "_driver", None) or eng
        sync()
        driver.setProperty("voice", self.resolve_voice(voice))
        if rate:
            driver.setProperty("rate", rate)
        sync()
        # pyttsx3 2.99's espeak driver returns an empty file on every other call: try again.
        for _attempt in range(3):
            out.unlink(missing_ok=True)
            with contextlib.redirect_stdout(io.StringIO()):  # the driver prints "Audio saved to ..." as it syncs
                eng.save_to_file(text, str(out))
                eng.runAndWait()
                sync()
            if out.exists() and out.stat().st_size > 100:
                return
        raise TTSError(f"the offline voice produced no audio for: {text[:60]!r}")


def _espeak_synchronize():
    try:
        from pyttsx3.drivers import _espeak

        return _espeak.Synchronize
    except Exception:  # noqa: BLE001 - another pyttsx3 driver: nothing to wait for
        return lambda: None
