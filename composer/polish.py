"""Optional polish of the generated text by a language model (any OpenAI-compatible endpoint).

The model may only reword: the answer must have the same steps with the same ids in the same order, and
every step must keep exactly its **bold** UI names. Anything else (an error, a timeout, an invented or
missing step) keeps the generated text and says why. Without an API key or base URL nothing is called.
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass

from guidecast.kernel.markup import BOLD

DEFAULT_MODEL = "gpt-4o-mini"
SYSTEM_PROMPT = """You are a technical writer editing a step-by-step software guide.
Rewrite the introduction, the ending and each step's sentence so they read naturally and clearly.
Rules:
- Keep every step, with its id, in the same order. Never add, remove, merge, split or reorder steps.
- Each step stays one short imperative sentence about the same action.
- Keep every UI name written as **Name** exactly as it is, bold markers included; add no other bold.
- Keep quoted values exactly. Use plain text only (no HTML, no other Markdown).
Answer with one JSON object only: {"intro": "...", "outro": "...", "steps": [{"id": "...", "text": "..."}]}"""


@dataclass(frozen=True)
class PolishSettings:
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = 60.0

    @classmethod
    def from_env(cls, model: str | None = None, base_url: str | None = None) -> PolishSettings:
        return cls(model=model or os.environ.get("GUIDECAST_POLISH_MODEL") or DEFAULT_MODEL,
                   base_url=base_url or os.environ.get("GUIDECAST_POLISH_BASE_URL") or os.environ.get("OPENAI_BASE_URL"),
                   api_key=os.environ.get("GUIDECAST_POLISH_API_KEY") or os.environ.get("OPENAI_API_KEY"))

    @property
    def usable(self) -> bool:
        return bool(self.api_key or self.base_url)


@dataclass(frozen=True)
class Texts:
    intro: str
    outro: str
    steps: dict[str, str]  # step id -> text, in guide order


class PolishRejected(Exception):
    """The model's answer breaks a rule; the generated text is kept."""


def polish_texts(texts: Texts, settings: PolishSettings) -> tuple[Texts, str]:
    """(texts to use, a one-line report). Never raises for the model's failures."""
    if not settings.usable:
        return texts, "polish skipped: no API key or base URL (set OPENAI_API_KEY or --polish-base-url)"
    from openai import OpenAIError

    try:
        answer = _ask(texts, settings)
    except OpenAIError as e:  # network, auth or server trouble: keep the generated text
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return texts, f"polish not applied, generated text kept: {settings.model} at {settings.base_url or 'OpenAI'}: {first}"
    try:
        polished = validate_answer(texts, answer)
    except PolishRejected as e:
        return texts, f"polish not applied, generated text kept: {e}"
    return polished, f"polished by {settings.model}"


def _ask(texts: Texts, settings: PolishSettings) -> str:
    from openai import OpenAI

    client = OpenAI(api_key=settings.api_key or "unused", base_url=settings.base_url, timeout=settings.timeout,
                    max_retries=0)
    payload = {"intro": texts.intro, "outro": texts.outro,
               "steps": [{"id": k, "text": v} for k, v in texts.steps.items()]}
    resp = client.chat.completions.create(
        model=settings.model,
        temperature=0,
        messages=[{"role": "system", "content": SYSTEM_PROMPT},
                  {"role": "user", "content": json.dumps(payload, ensure_ascii=False)}],
    )
    return resp.choices[0].message.content or ""


def _json_object(answer: str) -> dict:
    m = re.search(r"\{.*\}", answer, re.S)
    if not m:
        raise PolishRejected("the answer holds no JSON object")
    try:
        data = json.loads(m.group(0))
    except ValueError as e:
        raise PolishRejected(f"the answer is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise PolishRejected("the answer is not a JSON object")
    return data


def _text(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolishRejected(f"{what} is missing or empty")
    return value.strip()


def validate_answer(texts: Texts, answer: str) -> Texts:
    """The polished texts, if the answer keeps every rule; else PolishRejected naming the first break."""
    data = _json_object(answer)
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise PolishRejected("'steps' is missing")
    want = list(texts.steps)
    got = [s.get("id") if isinstance(s, dict) else None for s in steps]
    if len(got) != len(want):
        raise PolishRejected(f"{len(got)} steps came back for {len(want)}")
    if got != want:
        bad = next(g for g, w in zip(got, want, strict=True) if g != w)
        raise PolishRejected(f"step ids changed or reordered (got '{bad}')")
    out: dict[str, str] = {}
    for sid, s in zip(want, steps, strict=True):
        new = _text(s.get("text"), f"step '{sid}' text")
        if Counter(BOLD.findall(new)) != Counter(BOLD.findall(texts.steps[sid])):
            raise PolishRejected(f"step '{sid}' lost or changed a bold UI name")
        out[sid] = new
    return Texts(intro=_text(data.get("intro"), "intro"), outro=_text(data.get("outro"), "outro"), steps=out)
