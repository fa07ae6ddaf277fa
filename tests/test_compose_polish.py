"""Polish through the real `openai` client against a small OpenAI-compatible server on 127.0.0.1."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fixtures.compose.synthetic import make_capture

from guidecast.composer.compose import compose_guide
from guidecast.composer.polish import PolishRejected, PolishSettings, Texts, polish_texts, validate_answer


class FakeModel:
    """What the fake endpoint answers: a function of the request's JSON payload."""

    def __init__(self):
        self.mode = "reword"
        self.requests: list[dict] = []

    def answer(self, payload: dict) -> str:
        steps = payload["steps"]
        if self.mode == "reword":
            steps = [{"id": s["id"], "text": "Now " + s["text"][0].lower() + s["text"][1:]} for s in steps]
        elif self.mode == "invent":
            steps = steps + [{"id": "extra", "text": "Click **Profit**."}]
        elif self.mode == "drop-bold":
            steps = [{"id": s["id"], "text": s["text"].replace("**", "")} for s in steps]
        elif self.mode == "garbage":
            return "Sure! Here is your guide, reworded."
        body = {"intro": "Polished: " + payload["intro"], "outro": payload["outro"], "steps": steps}
        return "```json\n" + json.dumps(body) + "\n```"


@pytest.fixture(scope="module")
def endpoint():
    model = FakeModel()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/v1/chat/completions":
                self.send_error(404)
                return
            model.requests.append(data)
            if model.mode == "error":
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": {"message": "the model is overloaded"}}')
                return
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


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    return make_capture(tmp_path_factory.mktemp("polish") / "capture")


def settings(url: str) -> PolishSettings:
    return PolishSettings(model="tiny-writer", base_url=url, api_key="test-key", timeout=10)


def test_polish_rewrites_text_and_keeps_every_step(endpoint, capture, tmp_path):
    model, url = endpoint
    model.mode = "reword"
    plain_guide = compose_guide(capture, tmp_path / "plain")
    g = compose_guide(capture, tmp_path / "guide", polish=settings(url))
    assert model.requests[-1]["model"] == "tiny-writer"
    assert [s.id for s in g.steps] == [s.id for s in plain_guide.steps]
    for a, b in zip(plain_guide.steps, g.steps, strict=True):
        assert b.text == "Now " + a.text[0].lower() + a.text[1:]
    assert g.intro == "Polished: " + plain_guide.intro
    assert g.notices == ["polished by tiny-writer"]


@pytest.mark.parametrize("mode, reason", [
    ("invent", "10 steps came back for 9"),
    ("drop-bold", "lost or changed a bold UI name"),
    ("garbage", "holds no JSON object"),
    ("error", "the model is overloaded"),
])
def test_polish_that_breaks_a_rule_keeps_the_generated_text_and_says_why(endpoint, capture, tmp_path, mode, reason):
    model, url = endpoint
    model.mode = mode
    plain_guide = compose_guide(capture, tmp_path / "plain")
    g = compose_guide(capture, tmp_path / "guide", polish=settings(url))
    assert [s.text for s in g.steps] == [s.text for s in plain_guide.steps] and g.intro == plain_guide.intro
    assert len(g.notices) == 1 and g.notices[0].startswith("polish not applied, generated text kept")
    assert reason in g.notices[0]


def test_without_key_or_base_url_nothing_is_called(endpoint, monkeypatch):
    model, _ = endpoint
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GUIDECAST_POLISH_API_KEY", "GUIDECAST_POLISH_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    before = len(model.requests)
    s = PolishSettings.from_env()
    texts = Texts(intro="i", outro="o", steps={"a": "Click **A**."})
    out, note = polish_texts(texts, s)
    assert out == texts and note.startswith("polish skipped") and len(model.requests) == before


def test_validation_rules():
    texts = Texts(intro="i", outro="o", steps={"a": "Click **A**.", "b": "Select **X** from **Y**."})
    ok = '{"intro": "I", "outro": "O", "steps": [{"id": "a", "text": "Press **A**."}, {"id": "b", "text": "Pick **X** in **Y**."}]}'
    assert validate_answer(texts, ok).steps == {"a": "Press **A**.", "b": "Pick **X** in **Y**."}
    swapped = re.sub(r'"id": "a"(.*)"id": "b"', r'"id": "b"\1"id": "a"', ok)
    with pytest.raises(PolishRejected, match="ids changed or reordered"):
        validate_answer(texts, swapped)
    with pytest.raises(PolishRejected, match="bold UI name"):
        validate_answer(texts, ok.replace("**A**", "**A** and **B**"))
    with pytest.raises(PolishRejected, match="intro is missing"):
        validate_answer(texts, ok.replace('"intro": "I"', '"intro": ""'))
