"""Pronunciation helpers: step text rewritten the way a voice should read it.

Markup and quotes go, abbreviations and initialisms are expanded, amounts, decimals, percentages, ISO
dates, e-mail addresses, domains and menu paths ("Settings > Team") are spelled out in words a
text-to-speech engine reads correctly.
"""
from __future__ import annotations

import re

from guidecast.kernel.markup import plain

# Read as words (case-sensitive keys are initialisms; the rest match any case).
ABBREVIATIONS = {
    "e.g.": "for example", "i.e.": "that is", "etc.": "and so on", "vs.": "versus", "approx.": "about",
    "incl.": "including",
}
INITIALISMS = {
    "URL": "U R L", "PDF": "P D F", "ID": "I D", "IDs": "I Ds", "CSV": "C S V", "API": "A P I", "UI": "U I",
    "FAQ": "F A Q", "SSO": "S S O", "VAT": "V A T", "PIN": "pin", "USB": "U S B", "HTML": "H T M L",
    "SMS": "S M S", "IBAN": "I ban", "2FA": "two factor authentication", "OK": "okay", "CC": "C C",
    "BCC": "B C C", "HR": "H R", "QR": "Q R", "USD": "U S dollars", "EUR": "euros",
    "GBP": "pounds", "PNG": "P N G", "JPG": "J peg", "JPEG": "J peg", "XLSX": "Excel",
}
CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
              "£": ("pound", "pounds", "penny", "pence"), "¥": ("yen", "yen", "", "")}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
SYMBOLS = {"&": " and ", "→": ", then ", "›": ", then ", "»": ", then ", "…": "...", "–": ", ", "—": ", "}

_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+"
_CURRENCY = re.compile(rf"([$€£¥])\s?({_NUMBER})(?:\.(\d{{1,2}}))?(?!\d)")
_DECIMAL = re.compile(rf"(?<![\d.])({_NUMBER})\.(\d+)(?!\d|\.\d)")
_GROUPED = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+)(?![\d,])")
_PERCENT = re.compile(r"(\d)\s?%")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DOMAIN = re.compile(r"(?<![\w@])(?:https?://)?(?:[\w-]+\.)+(?:com|org|net|io|dev|app|co|de|uk|fr|eu)\b(?:/[\w./-]*[\w/-])?")
_MENU_PATH = re.compile(r"\s+>\s+")
_KEYS = {"ctrl": "Control", "cmd": "Command", "alt": "Alt", "shift": "Shift", "option": "Option", "opt": "Option",
         "meta": "Meta", "win": "Windows", "esc": "Escape", "del": "Delete", "pgup": "Page Up", "pgdn": "Page Down",
         "enter": "Enter", "tab": "Tab"}
_SHORTCUT = re.compile(r"(?<![\w+])(?:(?:Ctrl|Cmd|Alt|Shift|Option|Opt|Meta|Win)\s?\+\s?)+\w+(?![\w+])", re.IGNORECASE)
_TIME = re.compile(r"(?<![\d:.])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])(\s?(?:[AaPp][Mm]|[AaPp]\.[Mm]\.)(?!\w))?")
_SLASH_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")


def apply_lexicon(text: str, lexicon: dict[str, str] | None) -> str:
    """`text` with every name of the lexicon (whole words, any case; longer names first) said its way."""
    if not lexicon:
        return text
    names = sorted(lexicon, key=len, reverse=True)
    by_lower = {n.lower(): lexicon[n] for n in reversed(names)}
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in names), re.IGNORECASE)
    return pattern.sub(lambda m: by_lower[m.group(0).lower()], text)


def spoken(text: str, lexicon: dict[str, str] | None = None) -> str:
    """`text` (step markup allowed) as a voice should read it; the guide's lexicon is applied first."""
    s = apply_lexicon(plain(text), lexicon)
    for q in ("“", "”", "„", "«", "»", '"'):
        s = s.replace(q, "")
    s = _MENU_PATH.sub(", then ", s)
    for sym, words in SYMBOLS.items():
        s = s.replace(sym, words)
    s = _EMAIL.sub(lambda m: _spell_address(m.group(0)), s)
    s = _DOMAIN.sub(lambda m: _spell_address(m.group(0)), s)
    s = _ISO_DATE.sub(_date, s)
    s = _SLASH_DATE.sub(_slash_date, s)
    s = _SHORTCUT.sub(_shortcut, s)
    s = _TIME.sub(_time, s)
    s = _CURRENCY.sub(_money, s)
    s = _PERCENT.sub(r"\1 percent", s)
    s = _DECIMAL.sub(lambda m: f"{_ungroup(m.group(1))} point {' '.join(_decimals(m.group(2)))}", s)
    s = _GROUPED.sub(lambda m: _ungroup(m.group(1)), s)
    for abbr, full in ABBREVIATIONS.items():
        s = re.sub(rf"(?<!\w){re.escape(abbr)}(?!\w)", full, s, flags=re.IGNORECASE)
    for abbr, full in INITIALISMS.items():
        s = re.sub(rf"(?<![\w.]){re.escape(abbr)}(?![\w])", full, s)
    return re.sub(r"\s+", " ", s).strip()


def _ungroup(number: str) -> str:
    return number.replace(",", "")


def _decimals(digits: str) -> list[str]:
    """"50" -> ["50"], "05" -> ["0", "5"], "125" -> ["1", "2", "5"]: how people read decimals."""
    if len(digits) == 2 and digits[0] != "0":
        return [digits]
    return list(digits)


def _money(m: re.Match) -> str:
    one, many, cent, cents = CURRENCIES[m.group(1)]
    whole = int(_ungroup(m.group(2)))
    out = f"{whole} {one if whole == 1 else many}"
    frac = int((m.group(3) or "0").ljust(2, "0"))
    if frac and cent:
        out += f" and {frac} {cent if frac == 1 else cents}"
    return out


def _date(m: re.Match) -> str:
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{MONTHS[month - 1]} {day}, {year}"


def _slash_date(m: re.Match) -> str:
    """12/31/2026 or 31/12/2026 when only one reading is a date; 3/4/2026 (either) stays as written."""
    a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if 1 <= a <= 12 < b <= 31:
        return f"{MONTHS[a - 1]} {b}, {year}"
    if 1 <= b <= 12 < a <= 31:
        return f"{a} {MONTHS[b - 1]} {year}"
    return m.group(0)


def _shortcut(m: re.Match) -> str:
    """Ctrl+Shift+S -> Control Shift S."""
    keys = [k for k in re.split(r"\s?\+\s?", m.group(0)) if k]
    return " ".join(_KEYS.get(k.lower(), k.upper() if len(k) == 1 else k) for k in keys)


def _time(m: re.Match) -> str:
    """9:05 -> 9 oh 5, 14:30 -> 14 30, 10:00 -> 10 o'clock, 9:00 AM -> 9 A M."""
    hour, minute = int(m.group(1)), m.group(2)
    suffix = f" {m.group(3).strip()[0].upper()} M" + ("." if m.group(3).endswith(".") else "") if m.group(3) else ""
    if minute == "00":
        return f"{hour}{suffix}" if suffix else f"{hour} o'clock"
    said = f"oh {int(minute)}" if minute.startswith("0") else minute
    return f"{hour} {said}{suffix}"


def _spell_address(addr: str) -> str:
    addr = re.sub(r"^https?://", "", addr).rstrip("/")
    for sym, word in (("@", " at "), (".", " dot "), ("/", " slash "), ("-", " dash "), ("_", " underscore ")):
        addr = addr.replace(sym, word)
    return re.sub(r"\s+", " ", addr).strip()
