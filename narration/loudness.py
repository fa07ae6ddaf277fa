"""Loudness (ITU-R BS.1770 integrated, gated) and normalisation of speech clips, in numpy.

Clips are normalised once, when they are voiced and cached, so every narration track made from them
has the same loudness without a loudness pass over the whole track at render time.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

TARGET_LUFS = -16.0
CEILING_DBFS = -1.5
_BLOCK_S, _HOP_S = 0.4, 0.1
_IR_SECONDS = 0.5  # the K-weighting filter's impulse response has died out long before this


def _biquad(kind: str, rate: int, fc: float, q: float, gain_db: float) -> tuple[list[float], list[float]]:
    a_gain = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * fc / rate
    alpha, cw = math.sin(w0) / (2 * q), math.cos(w0)
    if kind == "high_shelf":
        sa = 2 * math.sqrt(a_gain) * alpha
        b = [a_gain * ((a_gain + 1) + (a_gain - 1) * cw + sa), -2 * a_gain * ((a_gain - 1) + (a_gain + 1) * cw),
             a_gain * ((a_gain + 1) + (a_gain - 1) * cw - sa)]
        a = [(a_gain + 1) - (a_gain - 1) * cw + sa, 2 * ((a_gain - 1) - (a_gain + 1) * cw),
             (a_gain + 1) - (a_gain - 1) * cw - sa]
    else:  # high pass
        b = [(1 + cw) / 2, -(1 + cw), (1 + cw) / 2]
        a = [1 + alpha, -2 * cw, 1 - alpha]
    return [x / a[0] for x in b], [x / a[0] for x in a]


@lru_cache(maxsize=4)
def _k_weighting_ir(rate: int) -> np.ndarray:
    """Impulse response of the K-weighting filter (pre-filter shelf, then RLB high-pass) at `rate`."""
    n = int(rate * _IR_SECONDS)
    x = np.zeros(n)
    x[0] = 1.0
    for kind, fc, q, g in (("high_shelf", 1681.974450955533, 0.7071752369554196, 3.999843853973347),
                           ("high_pass", 38.13547087602444, 0.5003270373238773, 0.0)):
        b, a = _biquad(kind, rate, fc, q, g)
        y = np.zeros(n)
        x1 = x2 = y1 = y2 = 0.0
        for i in range(n):
            xi = x[i]
            yi = b[0] * xi + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            x2, x1, y2, y1 = x1, xi, y1, yi
            y[i] = yi
        x = y
    return x


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Gated integrated loudness in LUFS of mono float samples in [-1, 1]; -inf for silence."""
    if samples.size == 0 or not np.any(samples):
        return float("-inf")
    ir = _k_weighting_ir(rate)
    n = samples.size + ir.size - 1
    size = 1 << (n - 1).bit_length()
    weighted = np.fft.irfft(np.fft.rfft(samples, size) * np.fft.rfft(ir, size), size)[: samples.size]
    block, hop = int(_BLOCK_S * rate), int(_HOP_S * rate)
    csum = np.concatenate([[0.0], np.cumsum(weighted * weighted)])
    if samples.size < block:
        z = np.array([csum[-1] / samples.size])
    else:
        starts = np.arange(0, samples.size - block + 1, hop)
        z = (csum[starts + block] - csum[starts]) / block
    z = z[z > 0]
    loud = -0.691 + 10 * np.log10(z) if z.size else np.array([])
    z = z[loud > -70]
    if not z.size:
        return float("-inf")
    relative = -0.691 + 10 * math.log10(z.mean()) - 10
    z = z[-0.691 + 10 * np.log10(z) > relative]
    return -0.691 + 10 * math.log10(z.mean())


def normalise(pcm: bytes, rate: int, target: float = TARGET_LUFS) -> bytes:
    """16-bit mono PCM brought to `target` LUFS; peaks above the ceiling are softly limited."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    loud = integrated_loudness(x, rate)
    if not math.isfinite(loud):
        return pcm
    y = x * 10 ** ((target - loud) / 20)
    ceiling = 10 ** (CEILING_DBFS / 20)
    knee = 0.75 * ceiling
    over = np.abs(y) > knee
    if over.any():
        mag = np.abs(y[over])
        y[over] = np.sign(y[over]) * (knee + (ceiling - knee) * np.tanh((mag - knee) / (ceiling - knee)))
    return np.round(y * 32767).astype("<i2").tobytes()
