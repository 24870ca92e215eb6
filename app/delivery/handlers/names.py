"""Incident channel names: `<prefix>-<n>-<slug of the title>`, always valid for Slack (lowercase letters, digits,
`-` and `_`, at most 80 characters). Accents are folded, Cyrillic and Greek transliterated, anything else
(emoji, CJK, punctuation) dropped; a title with nothing left gives `<prefix>-<n>`."""

from __future__ import annotations

import re
import unicodedata

NAME_MAX = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")

_TRANSLIT = str.maketrans(
    {
        # Cyrillic (a simple, readable scheme)
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "i",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "є": "ye",
        "і": "i",
        "ї": "yi",
        "ґ": "g",
        # Greek
        "α": "a",
        "β": "v",
        "γ": "g",
        "δ": "d",
        "ε": "e",
        "ζ": "z",
        "η": "i",
        "θ": "th",
        "ι": "i",
        "κ": "k",
        "λ": "l",
        "μ": "m",
        "ν": "n",
        "ξ": "x",
        "ο": "o",
        "π": "p",
        "ρ": "r",
        "σ": "s",
        "ς": "s",
        "τ": "t",
        "υ": "y",
        "φ": "f",
        "χ": "ch",
        "ψ": "ps",
        "ω": "o",
        # Latin letters that do not decompose
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", (title or "").lower()).translate(_TRANSLIT)
    text = text.encode("ascii", "ignore").decode("ascii")
    return _NOT_ALLOWED.sub("-", text).strip("-")


def channel_name(prefix: str, number: int, title: str, *, attempt: int = 0, tag: str = "") -> str:
    """The name for the `attempt`-th try: 0 is the plain name, 1.. add `-2`, `-3`...; `tag` replaces the
    numeric suffix (a last resort after many collisions)."""
    base = f"{prefix}-{number}"
    tail = f"-{tag}" if tag else (f"-{attempt + 1}" if attempt else "")
    room = NAME_MAX - len(base) - len(tail) - 1
    slug = slugify(title)[: max(room, 0)].rstrip("-")
    name = f"{base}-{slug}{tail}" if slug else f"{base}{tail}"
    return name[:NAME_MAX]
