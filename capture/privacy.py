"""Privacy by default: which typed values are secrets, blurring fields in screenshots, tidy URLs.

A value is kept out of every output when it was typed into a password field, into a field the
workflow marks `sensitive: true`, or when it looks like a credential (API tokens, JWTs, private
keys, card numbers passing the Luhn check). Screenshots get such fields blurred in their pixels.
"""
from __future__ import annotations

import io
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rx))
    for kind, rx in (
        ("API key (sk-...)", r"\bsk-(?:proj-|live-|test-|ant-)?[A-Za-z0-9_-]{16,}"),
        ("Stripe key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
        ("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
        ("JSON Web Token", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
        ("private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    )
)
_CARD_CHARS = re.compile(r"^[0-9][0-9 -]{11,22}[0-9]$")
MASK = "•••"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def secret_kind(value: str | None) -> str | None:
    """What kind of credential `value` looks like, or None."""
    if not value:
        return None
    for kind, rx in SECRET_PATTERNS:
        if rx.search(value):
            return kind
    v = value.strip()
    if _CARD_CHARS.match(v):
        digits = re.sub(r"[ -]", "", v)
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            return "card number"
    return None


def strip_query(url: str | None) -> str | None:
    """`url` without its ?query and #fragment (where tokens and personal data tend to travel)."""
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of a secret value replaced by a mask (the last line of defence)."""
    for s in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(s, MASK)
    return text


def blur_regions(png: bytes, boxes: Iterable[tuple[float, float, float, float]]) -> bytes:
    """Blur the given (x, y, width, height) rectangles, in the image's own pixels, into the PNG itself.

    Pixelates first and then applies a Gaussian blur, so no glyph shapes survive to be read back.
    """
    from PIL import Image, ImageFilter

    rects = []
    img = Image.open(io.BytesIO(png))
    W, H = img.size
    for x, y, w, h in boxes:
        left, top = max(0, int(x)), max(0, int(y))
        right, bottom = min(W, int(x + w + 0.999)), min(H, int(y + h + 0.999))
        if right - left >= 2 and bottom - top >= 2:
            rects.append((left, top, right, bottom))
    if not rects:
        return png
    img = img.convert("RGB")
    for r in rects:
        region = img.crop(r)
        w, h = region.size
        cell = max(4, min(w, h) // 3)
        small = region.resize((max(1, w // cell), max(1, h // cell)), Image.Resampling.BILINEAR)
        region = small.resize((w, h), Image.Resampling.BILINEAR)
        region = region.filter(ImageFilter.GaussianBlur(radius=max(4, min(w, h) / 4)))
        img.paste(region, r[:2])
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def app_name(url: str, title: str) -> str:
    """The app's name: the last part of a page title like "Sign in · Expensely", else the host name."""
    parts = [p.strip() for p in re.split(r"\s[·|—–:-]\s", title or "") if p.strip()]
    host = urlsplit(url).hostname or ""
    if len(parts) > 1:
        return parts[-1]
    if host and not re.match(r"^[\d.]+$|^localhost$|^\[", host):
        labels = host.split(".")
        return labels[-2] if len(labels) >= 2 else labels[0]
    return "the app"


def env_prefix(name: str) -> str:
    """An environment variable prefix from the app's name (EXPENSELY, ACME, APP)."""
    word = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")
    return "APP" if word in ("", "THE_APP") else word


class SecretNames:
    """Names for typed secret values (`password`, `password_2`, `token`, ...), kept in memory only:
    the same value typed twice gets the same name; the values themselves are never written."""

    def __init__(self) -> None:
        self._by_value: dict[str, str] = {}

    def name_for(self, value: str, base: str) -> str:
        if value not in self._by_value:
            taken = set(self._by_value.values())
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            self._by_value[value] = name
        return self._by_value[value]

    def env_vars(self, prefix: str) -> dict[str, str]:
        """The workflow's `secrets:` mapping: secret name -> environment variable."""
        return {name: f"{prefix}_{name.upper()}" for name in dict.fromkeys(self._by_value.values())}
