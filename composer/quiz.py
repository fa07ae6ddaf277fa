"""Knowledge checks: a short quiz per guide version, made from its steps, and its grading.

Questions are in plain words with the UI names the screen shows (in quotes, never `**`, selectors or ids):

- hotspot: "Where is “New expense” on this screen? Click it." on the step's picture without the highlight;
  right when the click lands in the target's box (with the practice tolerance);
- choice "which value": "Which value goes in “Amount”?" (the value the guide quotes, and other values of
  the same guide);
- choice "what happens after": "Where are you after you click “Sign in”?" (the page or dialog the next
  section names, or the guide's ending).

A manager may change everything (the server stores the quiz per guide version); `Quiz` validates what they
send: each choice question has a correct answer, the pass mark is 0-100, a hotspot's box lies inside its
picture. Optional: `generate_with_model` asks an OpenAI-compatible endpoint for more choice questions and
keeps the generated quiz when the answer breaks a rule.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Final, Literal

from pydantic import Field, ValidationError, model_validator

from guidecast.composer.guide import Guide, GuideStep
from guidecast.composer.polish import PolishSettings
from guidecast.composer.practice import TOLERANCE_PX, TYPING_ACTIONS, hit, quoted_value
from guidecast.kernel.boxes import Box
from guidecast.kernel.markup import BOLD, bold_names
from guidecast.kernel.model import Strict

QUIZ_SCHEMA_VERSION: Final = 1
DEFAULT_PASS_MARK = 80
MAX_QUESTIONS = 50
MAX_CHOICES = 8
HOTSPOTS, VALUES, AFTERS = 4, 3, 3  # how many of each kind a generated quiz asks at most
ID = r"^[a-z0-9][a-z0-9-]{0,79}$"


def words(text: str) -> str:
    """Step text in plain words: **Name** becomes “Name”."""
    return BOLD.sub(lambda m: f"“{m.group(1)}”", text)


class Choice(Strict):
    text: str = Field(min_length=1, max_length=300)
    correct: bool = False


class ChoiceQuestion(Strict):
    kind: Literal["choice"] = "choice"
    id: str = Field(pattern=ID)
    step_id: str | None = None  # the step it asks about (the dashboard counts misses per step)
    prompt: str = Field(min_length=1, max_length=500)
    choices: list[Choice] = Field(min_length=2, max_length=MAX_CHOICES)

    @model_validator(mode="after")
    def _one_correct(self) -> ChoiceQuestion:
        if not any(c.correct for c in self.choices):
            raise ValueError("no choice is marked correct: mark the right answer")
        return self


class HotspotQuestion(Strict):
    kind: Literal["hotspot"] = "hotspot"
    id: str = Field(pattern=ID)
    step_id: str
    prompt: str = Field(min_length=1, max_length=500)
    image: str  # the step's picture without the highlight, relative to the guide folder
    image_size: tuple[int, int]
    box: Box  # where a click counts, in image pixels

    @model_validator(mode="after")
    def _box_inside(self) -> HotspotQuestion:
        w, h = self.image_size
        b = self.box
        if b.width <= 0 or b.height <= 0 or b.x < 0 or b.y < 0 or b.x + b.width > w + 0.5 or b.y + b.height > h + 0.5:
            raise ValueError(f"the box x={b.x:g} y={b.y:g} width={b.width:g} height={b.height:g} reaches outside "
                             f"the {w}x{h} screenshot: draw it on the picture")
        return self


Question = Annotated[ChoiceQuestion | HotspotQuestion, Field(discriminator="kind")]


class Quiz(Strict):
    schema_version: Literal[1] = QUIZ_SCHEMA_VERSION
    pass_mark: int = Field(DEFAULT_PASS_MARK, ge=0, le=100, description="percent of questions right to pass")
    questions: list[Question] = Field(default_factory=list, max_length=MAX_QUESTIONS)
    source: Literal["generated", "model", "person"] = "generated"
    notices: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Quiz:
        seen: set[str] = set()
        for q in self.questions:
            if q.id in seen:
                raise ValueError(f"two questions have the id '{q.id}'")
            seen.add(q.id)
        return self


class Graded(Strict):
    score: int  # percent right
    passed: bool
    right: dict[str, bool]  # question id -> answered right
    missed_steps: list[str]  # step ids of the questions answered wrong


def _rotate(items: list[str], key: str) -> tuple[list[str], int]:
    """The right answer (items[0]) put at a place that depends on `key` (deterministic, not always first)."""
    k = int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(items)
    out = items[1:]
    out.insert(k, items[0])
    return out, k


def _choice(qid: str, step_id: str | None, prompt: str, right: str, wrong: list[str]) -> ChoiceQuestion | None:
    options = list(dict.fromkeys([right] + [w for w in wrong if w != right]))[:4]
    if len(options) < 2:
        return None
    ordered, k = _rotate(options, qid)
    return ChoiceQuestion(id=qid, step_id=step_id, prompt=prompt,
                          choices=[Choice(text=t, correct=i == k) for i, t in enumerate(ordered)])


def _action_phrase(step: GuideStep) -> str:
    """"Click **Sign in**." -> "click “Sign in”" (for "after you ...")."""
    text = words(step.text).strip().rstrip(".")
    return text[:1].lower() + text[1:]


def generate_quiz(guide: Guide, pass_mark: int = DEFAULT_PASS_MARK) -> Quiz:
    """A quiz from the guide's steps (deterministic: the same guide gives the same quiz)."""
    steps = list(guide.steps)
    questions: list[ChoiceQuestion | HotspotQuestion] = []
    hotspots = [s for s in steps if s.practice_image and s.highlight and s.image_size and bold_names(s.text)
                and s.action not in TYPING_ACTIONS]
    for s in _spread(hotspots, HOTSPOTS):
        assert s.practice_image is not None and s.highlight is not None and s.image_size is not None
        questions.append(HotspotQuestion(
            id=f"where-{s.id}"[:80], step_id=s.id, prompt=f"Where is “{bold_names(s.text)[-1]}” on this screen? Click it.",
            image=s.practice_image, image_size=s.image_size, box=_clip(s.highlight, s.image_size)))
    typed = [(s, quoted_value(s.text)) for s in steps if s.action in TYPING_ACTIONS and bold_names(s.text)]
    values = [v for _, v in typed if v]
    for s, v in _spread([(s, v) for s, v in typed if v], VALUES):
        q = _choice(f"value-{s.id}"[:80], s.id, f"Which value goes in “{bold_names(s.text)[0]}”?", v,
                    [w for w in values if w != v])
        if q:
            questions.append(q)
    places = [(i, words(s.section)) for i, s in enumerate(steps) if s.section]
    ending = words(guide.outro).strip()
    afters = []
    for i, s in enumerate(steps):
        nxt = steps[i + 1] if i + 1 < len(steps) else None
        if nxt is not None and nxt.section and i > 0:
            afters.append((s, words(nxt.section)))
        elif nxt is None and ending:
            afters.append((s, ending))
    all_places = [p for _, p in places] + ([ending] if ending else [])
    for s, right in _spread(afters, AFTERS):
        q = _choice(f"after-{s.id}"[:80], s.id, f"What happens after you {_action_phrase(s)}?", right,
                    [p for p in all_places if p != right])
        if q:
            questions.append(q)
    order = {s.id: i for i, s in enumerate(steps)}
    questions.sort(key=lambda q: order.get(q.step_id or "", len(order)))
    return Quiz(pass_mark=pass_mark, questions=questions)


def _spread(items: list, n: int) -> list:
    """At most `n` of `items`, spread over the guide (first and last kept)."""
    if len(items) <= n:
        return items
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)] if n > 1 else items[:1]


def _clip(b: Box, size: tuple[int, int]) -> Box:
    x, y = max(0.0, b.x), max(0.0, b.y)
    return Box(x=x, y=y, width=min(b.x + b.width, size[0]) - x, height=min(b.y + b.height, size[1]) - y)


def grade(quiz: Quiz, answers: dict[str, dict]) -> Graded:
    """Score `answers` (question id -> {"choices": [index, ...]} or {"x": .., "y": ..} in image pixels)."""
    right: dict[str, bool] = {}
    for q in quiz.questions:
        a = answers.get(q.id) or {}
        if isinstance(q, ChoiceQuestion):
            picked = a.get("choices")
            want = {i for i, c in enumerate(q.choices) if c.correct}
            right[q.id] = isinstance(picked, list) and {p for p in picked if isinstance(p, int)} == want
        else:
            x, y = a.get("x"), a.get("y")
            right[q.id] = (isinstance(x, int | float) and isinstance(y, int | float)
                           and hit(q.box, float(x), float(y), TOLERANCE_PX))
    n = len(quiz.questions)
    score = round(100 * sum(right.values()) / n) if n else 100
    missed = list(dict.fromkeys(q.step_id for q in quiz.questions if not right[q.id] and q.step_id))
    return Graded(score=score, passed=score >= quiz.pass_mark, right=right, missed_steps=missed)


def public_view(quiz: Quiz) -> dict:
    """What the learner's page gets: the questions without which answer is right."""
    out = []
    for q in quiz.questions:
        if isinstance(q, ChoiceQuestion):
            out.append({"kind": "choice", "id": q.id, "prompt": q.prompt, "choices": [c.text for c in q.choices],
                        "multiple": sum(c.correct for c in q.choices) > 1})
        else:
            out.append({"kind": "hotspot", "id": q.id, "prompt": q.prompt, "image": q.image,
                        "image_size": list(q.image_size)})
    return {"pass_mark": quiz.pass_mark, "questions": out}


# -- optional: more questions from a language model ---------------------------------------------------

MODEL_PROMPT = """You write a short knowledge check for a step-by-step software guide.
Write up to 4 multiple-choice questions about what the learner does and sees, using only the guide's steps.
Rules: plain words; UI names in quotes exactly as the steps write them; no code, selectors or ids.
Each question names the step it is about (step_id) and has 2 to 4 choices, exactly one correct.
Answer with one JSON object only:
{"questions": [{"step_id": "...", "prompt": "...", "choices": [{"text": "...", "correct": true}, ...]}]}"""


def generate_with_model(guide: Guide, settings: PolishSettings, pass_mark: int = DEFAULT_PASS_MARK) -> Quiz:
    """The generated quiz plus the model's questions when they keep the rules; never raises for the model's
    failures (the generated quiz is kept and `notices` says why)."""
    quiz = generate_quiz(guide, pass_mark)
    if not settings.usable:
        quiz.notices.append("no model configured: the questions are made from the steps")
        return quiz
    from openai import OpenAI, OpenAIError

    payload = {"title": guide.title, "steps": [{"id": s.id, "text": words(s.text)} for s in guide.steps]}
    try:
        client = OpenAI(api_key=settings.api_key or "unused", base_url=settings.base_url, timeout=settings.timeout,
                        max_retries=0)
        resp = client.chat.completions.create(
            model=settings.model, temperature=0,
            messages=[{"role": "system", "content": MODEL_PROMPT},
                      {"role": "user", "content": json.dumps(payload, ensure_ascii=False)}])
        answer = resp.choices[0].message.content or ""
    except OpenAIError as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        quiz.notices.append(f"model questions not added: {settings.model}: {first}")
        return quiz
    try:
        extra = _model_questions(answer, {s.id for s in guide.steps}, {q.id for q in quiz.questions})
    except ValueError as e:
        quiz.notices.append(f"model questions not added: {e}")
        return quiz
    quiz.questions.extend(extra)
    quiz.source = "model"
    quiz.notices.append(f"{len(extra)} questions written by {settings.model}")
    return Quiz.model_validate(quiz.model_dump())


def _model_questions(answer: str, step_ids: set[str], taken: set[str]) -> list[ChoiceQuestion]:
    m = re.search(r"\{.*\}", answer, re.S)
    try:
        data = json.loads(m.group(0)) if m else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise ValueError("the answer holds no JSON object with 'questions'")
    out = []
    for k, raw in enumerate(data["questions"][:4]):
        if not isinstance(raw, dict):
            raise ValueError(f"question {k + 1} is not an object")
        text = json.dumps(raw, ensure_ascii=False)
        if "**" in text or re.search(r"[#.]\w+\[|data-testid|getBy", text):
            raise ValueError(f"question {k + 1} uses markup or selectors, not plain words")
        if raw.get("step_id") not in step_ids:
            raise ValueError(f"question {k + 1} names no step of the guide")
        qid = f"model-{k + 1}"
        while qid in taken:
            qid += "x"
        try:
            q = ChoiceQuestion(id=qid, step_id=raw["step_id"], prompt=str(raw.get("prompt", "")),
                               choices=[Choice.model_validate(c) for c in raw.get("choices") or []])
        except ValidationError as e:
            raise ValueError(f"question {k + 1}: {e.errors()[0]['msg'].removeprefix('Value error, ')}") from None
        except TypeError as e:
            raise ValueError(f"question {k + 1}: {e}") from None
        if sum(c.correct for c in q.choices) != 1:
            raise ValueError(f"question {k + 1} has {sum(c.correct for c in q.choices)} correct choices, not one")
        out.append(q)
    return out
