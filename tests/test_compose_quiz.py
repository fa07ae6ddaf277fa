"""Practice steps and knowledge checks made from a guide: the un-highlighted pictures, plain-word questions,
grading, what a manager's quiz may not hold, and optional questions from a model through the real `openai`
client against a small OpenAI-compatible server on 127.0.0.1."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fixtures.compose.synthetic import make_capture
from PIL import Image
from pydantic import ValidationError

from guidecast.composer.annotate import HIGHLIGHT
from guidecast.composer.compose import compose_guide
from guidecast.composer.polish import PolishSettings
from guidecast.composer.practice import practice_of
from guidecast.composer.quiz import ChoiceQuestion, HotspotQuestion, Quiz, generate_quiz, generate_with_model, grade


@pytest.fixture(scope="module")
def guide_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("quiz")
    compose_guide(make_capture(root / "capture"), root / "guide")
    return root / "guide"


@pytest.fixture(scope="module")
def guide(guide_dir):
    from guidecast.composer.guide import load_guide

    return load_guide(guide_dir)


def _orange(png_path, box) -> int:
    """Pixels of the highlight's colour along the box's top edge."""
    im = Image.open(png_path).convert("RGB")
    y = max(0, int(box.y) + 1)
    return sum(1 for x in range(int(box.x), int(box.x + box.width)) if
               all(abs(a - b) < 40 for a, b in zip(im.getpixel((x, y)), HIGHLIGHT, strict=True)))


def test_practice_pictures_are_the_guide_pictures_without_the_highlight(guide, guide_dir):
    practice = practice_of(guide)
    assert [s.id for s in practice.steps] == [s.id for s in guide.steps if s.highlight]
    for s in practice.steps:
        st = next(x for x in guide.steps if x.id == s.id)
        assert st.image and s.image != st.image and s.image.endswith(".practice.png")
        assert Image.open(guide_dir / s.image).size == tuple(s.image_size) == Image.open(guide_dir / st.image).size
        assert _orange(guide_dir / st.image, s.box) > 10, s.id  # the guide's picture shows where to click ...
        assert _orange(guide_dir / s.image, s.box) == 0, s.id  # ... the practice picture does not
    kinds = {s.id: (s.kind, s.value) for s in practice.steps}
    assert kinds["enter-email"] == ("type", "sam@example.com")
    assert kinds["enter-password"] == ("type", None)  # the guide never quotes a password: any text will do
    assert kinds["sign-in"] == ("click", None)
    assert all("**" not in s.instruction for s in practice.steps)


def test_the_guide_id_does_not_change_with_the_practice_pictures(guide):
    from guidecast.composer.compose import content_id

    assert content_id(guide) == guide.id == content_id(guide.model_copy(update={
        "steps": [s.model_copy(update={"practice_image": None}) for s in guide.steps]}))


def test_generated_quiz_asks_in_plain_words_and_grades(guide):
    quiz = generate_quiz(guide)
    assert quiz == generate_quiz(guide)  # deterministic
    kinds = {q.id: q.kind for q in quiz.questions}
    assert {"hotspot", "choice"} <= set(kinds.values())
    text = json.dumps([q.prompt for q in quiz.questions] + [c.text for q in quiz.questions
                                                            if isinstance(q, ChoiceQuestion) for c in q.choices])
    assert "**" not in text and "#" not in text and "testid" not in text
    value = next(q for q in quiz.questions if q.id == "value-enter-email")
    assert value.prompt == "Which value goes in “Email”?"
    assert [c.text for c in value.choices if c.correct] == ["sam@example.com"]
    where = next(q for q in quiz.questions if isinstance(q, HotspotQuestion))
    assert where.prompt.startswith("Where is “") and where.image.endswith(".practice.png")
    after = next(q for q in quiz.questions if q.id == "after-sign-in")
    assert after.prompt == "What happens after you click “Sign in”?"
    # all right, then one wrong: the score, the pass mark and the step missed
    answers = {}
    for q in quiz.questions:
        if isinstance(q, ChoiceQuestion):
            answers[q.id] = {"choices": [i for i, c in enumerate(q.choices) if c.correct]}
        else:
            answers[q.id] = {"x": q.box.x + q.box.width / 2, "y": q.box.y + q.box.height / 2}
    full = grade(quiz, answers)
    assert full.score == 100 and full.passed and full.missed_steps == []
    answers[where.id] = {"x": 0, "y": 0}
    one_off = grade(quiz, answers)
    assert one_off.score == round(100 * (len(quiz.questions) - 1) / len(quiz.questions))
    assert one_off.missed_steps == [where.step_id] and one_off.right[where.id] is False
    assert one_off.passed == (one_off.score >= quiz.pass_mark)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["questions"][0]["choices"].__setitem__(0, {"text": "a", "correct": False}) or
     [c.update(correct=False) for c in d["questions"][0]["choices"]], "no choice is marked correct"),
    (lambda d: d.update(pass_mark=150), "less than or equal to 100"),
    (lambda d: d["questions"][1]["box"].update(x=10_000), "reaches outside the"),
])
def test_a_quiz_that_breaks_a_rule_is_refused_with_the_field(guide, change, message):
    quiz = generate_quiz(guide)
    choice = next(q for q in quiz.questions if isinstance(q, ChoiceQuestion))
    hotspot = next(q for q in quiz.questions if isinstance(q, HotspotQuestion))
    data = Quiz(questions=[choice, hotspot]).model_dump(mode="json")
    change(data)
    with pytest.raises(ValidationError, match=message):
        Quiz.model_validate(data)


class FakeModel:
    def __init__(self):
        self.mode = "good"

    def answer(self, payload: dict) -> str:
        step = payload["steps"][2]["id"]
        if self.mode == "good":
            qs = [{"step_id": step, "prompt": "What does “Sign in” do?", "choices": [
                {"text": "It opens your dashboard", "correct": True}, {"text": "It deletes you", "correct": False}]}]
        elif self.mode == "markup":
            qs = [{"step_id": step, "prompt": "Click **Sign in**?", "choices": [
                {"text": "yes", "correct": True}, {"text": "no", "correct": False}]}]
        else:
            qs = [{"step_id": step, "prompt": "Which?", "choices": [{"text": "a", "correct": False},
                                                                  {"text": "b", "correct": False}]}]
        return "```json\n" + json.dumps({"questions": qs}) + "\n```"


@pytest.fixture(scope="module")
def endpoint():
    model = FakeModel()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            payload = json.loads(data["messages"][-1]["content"])
            body = {"id": "c1", "object": "chat.completion", "created": 0, "model": data["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": model.answer(payload)}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield model, f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_model_questions_are_added_when_they_keep_the_rules(guide, endpoint):
    model, url = endpoint
    settings = PolishSettings(model="tiny-writer", base_url=url, api_key="k", timeout=10)
    base = generate_quiz(guide)
    model.mode = "good"
    quiz = generate_with_model(guide, settings)
    assert quiz.source == "model" and len(quiz.questions) == len(base.questions) + 1
    extra = quiz.questions[-1]
    assert extra.prompt == "What does “Sign in” do?" and extra.step_id == guide.steps[2].id
    for mode, why in (("markup", "markup or selectors"), ("none-correct", "no choice is marked correct")):
        model.mode = mode
        kept = generate_with_model(guide, settings)
        assert kept.questions == base.questions and why in kept.notices[-1], (mode, kept.notices)


def test_without_a_model_nothing_is_called(guide):
    quiz = generate_with_model(guide, PolishSettings(base_url=None, api_key=None))
    assert quiz.questions == generate_quiz(guide).questions and "no model configured" in quiz.notices[0]


def test_practice_image_reaches_the_server_upload(guide_dir):
    from guidecast.server.uploads import check_guide

    _, kept = check_guide(guide_dir)
    assert any(name.endswith(".practice.png") for name in kept.files)

