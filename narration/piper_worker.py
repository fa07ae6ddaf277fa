"""The neural voice's own process: `python -m guidecast.narration.piper_worker MODEL CONFIG`.

piper-tts (GPL-3.0-or-later) is imported here and nowhere else, and this module only ever runs as its own
process, started by `voice_piper.PiperEngine` when the optional `neural` extra is installed. It loads one
Piper voice once and then answers requests, one JSON object a line on stdin and stdout:

    started            -> {"ready": true, "sample_rate": 22050}   or {"error": "..."} and exit 1
                                                                  ({"install": true} too: piper-tts is broken)
    {"text": "...", "out": "/path.wav", "length_scale": 1.0, "sentence_silence": 0.3}
                       -> {"ok": true, "seconds": 2.41}           or {"error": "..."}

Each request writes 16-bit mono WAV at the voice's own sample rate, the sentences joined by
`sentence_silence` seconds of silence. The model runs on one thread without spinning, so that several
workers share the machine's cores instead of fighting over them, and without graph optimisations (they
cost more to load than they save). Closing stdin ends the process.
"""
from __future__ import annotations

import argparse
import json
import sys
import wave


def _error(e: BaseException) -> str:
    """An exception as one short line."""
    return " ".join(f"{type(e).__name__}: {e}".split())[:300]


def _reply(out, **message) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _load(model: str, config: str, threads: int):
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    with open(config, encoding="utf-8") as f:
        cfg = PiperConfig.from_dict(json.load(f))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # graph optimisations triple the load time (1.1 s of CPU instead of 0.4) and do not speed this model up
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(session=session, config=cfg)


def _say(voice, request: dict) -> float:
    import numpy as np
    from piper import SynthesisConfig

    syn = SynthesisConfig(length_scale=float(request.get("length_scale") or voice.config.length_scale))
    rate = voice.config.sample_rate
    gap = np.zeros(int(rate * float(request.get("sentence_silence", 0.0))), dtype=np.int16)
    parts: list = []
    for chunk in voice.synthesize(request["text"], syn):
        if parts:
            parts.append(gap)
        parts.append(chunk.audio_int16_array)
    pcm = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
    with wave.open(request["out"], "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())
    return pcm.size / rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="piper_worker")
    parser.add_argument("model")
    parser.add_argument("config")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    protocol = sys.stdout
    sys.stdout = sys.stderr  # anything a library prints stays out of the protocol
    try:
        import onnxruntime  # noqa: F401
        import piper  # noqa: F401
    except ImportError as e:
        _reply(protocol, error=_error(e), install=True)
        return 1
    try:
        voice = _load(args.model, args.config, args.threads)
    except Exception as e:  # noqa: BLE001 - whatever the runtime says about a damaged model goes back as text
        _reply(protocol, error=_error(e))
        return 1
    _reply(protocol, ready=True, sample_rate=voice.config.sample_rate)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            seconds = _say(voice, json.loads(line))
        except Exception as e:  # noqa: BLE001 - one failed request is reported, the worker keeps serving
            _reply(protocol, error=_error(e))
            continue
        _reply(protocol, ok=True, seconds=round(seconds, 4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
