"""Writing systems: which scripts a text is written in, and which ones a voice's language reads.

Every voice reads Latin letters and digits (UI names are often English); a text with letters of
another script needs a voice whose language is written in it.
"""
from __future__ import annotations

import unicodedata

# language code (as espeak-ng names them, without region) -> the scripts it is written in besides Latin
SCRIPTS_OF = {
    **dict.fromkeys(["ar", "fa", "ur", "ps", "sd", "ug", "ckb"], {"ARABIC"}),
    **dict.fromkeys(["ru", "uk", "be", "bg", "mk", "sr", "ba", "tt", "kk", "ky", "cv", "mn"], {"CYRILLIC"}),
    **dict.fromkeys(["el", "grc"], {"GREEK"}),
    "he": {"HEBREW"}, "ka": {"GEORGIAN"}, "hy": {"ARMENIAN"}, "am": {"ETHIOPIC"}, "th": {"THAI"},
    **dict.fromkeys(["hi", "mr", "ne", "sa", "kok", "mai", "bpy"], {"DEVANAGARI"}),
    **dict.fromkeys(["bn", "as"], {"BENGALI"}),
    "pa": {"GURMUKHI"}, "gu": {"GUJARATI"}, "or": {"ORIYA"}, "ta": {"TAMIL"}, "te": {"TELUGU"},
    "kn": {"KANNADA"}, "ml": {"MALAYALAM"}, "si": {"SINHALA"}, "my": {"MYANMAR"}, "lo": {"LAO"},
    "km": {"KHMER"},
    **dict.fromkeys(["cmn", "yue", "zh", "hak"], {"CJK"}),
    "ja": {"CJK", "HIRAGANA", "KATAKANA"}, "ko": {"HANGUL"},
}
SCRIPT_NAMES = {"CJK": "Chinese characters", "HANGUL": "Korean (Hangul)", "HIRAGANA": "Japanese (Hiragana)",
                "KATAKANA": "Japanese (Katakana)"}
_FIRST_WORD_ALIASES = {"HALFWIDTH": "KATAKANA", "FULLWIDTH": "LATIN"}


def script_of(ch: str) -> str | None:
    """The script of a letter ("LATIN", "CYRILLIC", "CJK", ...), None for anything that is not a letter."""
    if not ch.isalpha():
        return None
    try:
        first = unicodedata.name(ch).split()[0]
    except ValueError:
        return None
    return _FIRST_WORD_ALIASES.get(first, first)


def scripts_in(text: str) -> list[str]:
    """The scripts of `text`'s letters, most used first."""
    counts: dict[str, int] = {}
    for ch in text:
        s = script_of(ch)
        if s:
            counts[s] = counts.get(s, 0) + 1
    return sorted(counts, key=lambda k: counts[k], reverse=True)


def readable_scripts(language: str) -> set[str]:
    base = language.lower().split("-")[0].split("_")[0]
    return {"LATIN"} | SCRIPTS_OF.get(base, set())


def unreadable_script(text: str, language: str) -> str | None:
    """A script in `text` that a voice speaking `language` cannot read, as a readable name; else None."""
    allowed = readable_scripts(language)
    for s in scripts_in(text):
        if s not in allowed:
            return SCRIPT_NAMES.get(s, s.title())
    return None
