"""OpenAI text-to-speech (or any OpenAI-compatible server) through the openai client.

Configured by OPENAI_API_KEY and OPENAI_BASE_URL, or the --tts-base-url / --tts-model flags.
"""
from __future__ import annotations

import os
from pathlib import Path

from guidecast.narration.tts import EngineBase, TTSError, VoiceInfo

DEFAULT_MODEL = "tts-1"
DEFAULT_VOICE = "alloy"
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse")
NATURAL_WPM = 165  # --rate in words per minute maps onto OpenAI's speed factor around this


class OpenAIEngine(EngineBase):
    name = "openai"

    def __init__(self, base_url: str | None = None, model: str | None = None, api_key: str | None = None,
                 timeout: float = 60.0, retries: int = 1, **_ignored) -> None:
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY")
        self.model = model or DEFAULT_MODEL
        self.timeout, self.retries = timeout, retries
        self.cache_id = f"openai:{self.model}"
        self._client = None

    def check(self, text: str, voice: str | None) -> None:
        if not self.api_key and not self.base_url:
            raise TTSError("the openai voice needs OPENAI_API_KEY in the environment (or --tts-base-url for an "
                           "OpenAI-compatible server)")

    def _get(self):
        if self._client is None:
            self.check("", None)
            from openai import OpenAI

            self._client = OpenAI(api_key=self.api_key or "not-needed", base_url=self.base_url,
                                  timeout=self.timeout, max_retries=self.retries)
        return self._client

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(v, v.title(), ("multilingual",)) for v in VOICES]

    def resolve_voice(self, voice: str | None) -> str:
        return voice or DEFAULT_VOICE

    def render(self, text: str, voice: str | None, rate: int | None, out: Path) -> None:
        import openai

        speed = min(4.0, max(0.25, (rate or NATURAL_WPM) / NATURAL_WPM))
        where = self.base_url or "api.openai.com"
        try:
            resp = self._get().audio.speech.create(model=self.model, voice=self.resolve_voice(voice), input=text,
                                                   response_format="wav", speed=round(speed, 2))
            out.write_bytes(resp.read())
        except openai.APITimeoutError:
            raise TTSError(f"the openai voice at {where} did not answer within {self.timeout:g} s "
                           "(raise --tts-timeout, or check the server)") from None
        except openai.APIConnectionError as e:
            raise TTSError(f"the openai voice at {where} cannot be reached ({e.__cause__ or e}); check "
                           "--tts-base-url / OPENAI_BASE_URL and the network") from None
        except openai.APIStatusError as e:
            detail = _message(e)
            raise TTSError(f"the openai voice at {where} refused the request: HTTP {e.status_code}"
                           + (f" ({detail})" if detail else "")
                           + ("; check OPENAI_API_KEY" if e.status_code in (401, 403) else "")) from None


def _message(e) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get("message", ""))[:200]
        return str(inner)[:200]
    return str(body or "")[:200]
