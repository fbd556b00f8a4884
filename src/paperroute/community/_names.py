"""Readers' display names: the one name shown publicly on comments and collections.

A new reader is ``reader-<pk>`` (never anything from their address) until they choose a
name on /me. A chosen name is 2-40 characters of letters (with up to three combining marks
after each: vowel signs), digits, spaces and ``. - _ '``, with a letter; no control, format
(RTL overrides, zero-width joiners), private-use or invisible characters (Hangul fillers,
variation selectors), no ``@``. Names are compared by their *key* (:func:`fold`): NFKC,
Unicode's confusables (UTS #39) mapped to the ASCII letter they pass for, case-folded,
accents dropped, common Cyrillic/Greek/Armenian look-alikes, Latin small capitals, the
dotless i and digit-for-letter swaps (``4dm1n``) mapped to Latin letters, everything but
letters and digits removed; the key is unique (``users.display_key``), so "Alice", "alice",
"Al1ce", "Alıce" and "A l i c e" are one name. What case folding joins wrongly (a capital
I, a small l, a 1) is compared by :func:`skeleton` ("AIice" passes for "Alice"). Keys
holding a staff word (admin, moderator, paperroute ...) and keys of the form
``reader<digits>`` (another reader's default) cannot be chosen.
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import InvalidInput
from ._confusables import PAIRS

MIN_CHARS = 2
MAX_CHARS = 40
MAX_INPUT = 200  # longer input is refused before any normalisation work
# Words kept for the site: anywhere in a key ("Admin Bob", "the_moderator"), or as the
# whole key (words too common inside real names to refuse everywhere: "Systems Lab").
RESERVED_PARTS = ("admin", "moderator", "paperroute", "staff", "sysop", "webmaster", "postmaster")
RESERVED_WHOLE = ("mod", "mods", "root", "system", "support", "official", "team", "owner")
_PUNCTUATION = set(" .-_'")
# Look-alikes folded to the Latin letter they imitate (the usual suspects of UTS #39's
# confusables among Cyrillic and Greek lower case), then digits used as letters.
_LOOK_ALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j", "к": "k",
        "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
        "ѕ": "s", "ԁ": "d", "ɡ": "g", "ո": "n", "ս": "u",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
        "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ѵ": "v", "ү": "y", "ϲ": "c", "ϳ": "j",
        "օ": "o", "հ": "h",
        # Case folding keeps these apart from i and j (Turkish dotless i; "İ" folds to
        # i + a combining dot, which the key drops): "Alıce" would pass for "Alice".
        "ı": "i", "ȷ": "j", "ɩ": "i", "ɑ": "a",
        # Latin small capitals: no case or compatibility mapping joins them to a..z.
        "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i",
        "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r",
        "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    }
)  # fmt: skip
# Letters by category that show as nothing (Unicode's default-ignorable letters): a name of
# Hangul fillers looks blank, and one hidden inside a name makes a look-alike.
_INVISIBLE = frozenset(
    "\u115f\u1160\u3164\uffa0"
    # Default-ignorable marks: the combining grapheme joiner, Mongolian free variation
    # selectors, variation selectors (nothing to see, a different key).
    "\u034f\u180b\u180c\u180d" + "".join(map(chr, range(0xFE00, 0xFE10)))
)
# Vowel signs and viramas (combining marks) are spelling in Devanagari, Tamil, Thai ...: a
# name may hold them after a letter, a few at a time (not a stack of them over one letter).
MAX_MARKS = 3
_DIGITS_AS_LETTERS = str.maketrans("013457", "oieast")
_DEFAULT = re.compile(r"reader[0-9]*")
# Every other character that Unicode's confusables (UTS #39) say passes for an ASCII letter
# or digit: Cherokee, Lisu, Canadian Syllabics, mathematical letters ... ("Ꭺlice").
# Dotless strokes the data folds to i (or leaves out) though they pass for an l or an I:
# the small palochka, small capital I, Latin iota, the Arabic alef and ones. As a capital
# I: the key reads them as i (case folded), the skeleton as the I/l/1 mark.
_STROKES = "\u04cf\u026a\u0269\u0627\u0661\u06f1\u07c1"
_CONFUSABLES = str.maketrans(
    {PAIRS[n]: PAIRS[n + 1] for n in range(0, len(PAIRS), 2)} | dict.fromkeys(_STROKES, "I")
)
# What case folding joins and the eye does not tell apart: a capital I, a small l and a 1
# ("AIice" passes for "Alice"). The key folds I to i, so these are compared apart (skeleton).
_I_LIKE = re.compile("[Il1]")


def default_name(pk: int) -> str:
    return f"reader-{pk}"


def default_key(pk: int) -> str:
    """Not a key any chosen name can have: those never look like a default."""
    return f"reader{pk}"


def _ascii_looks(name: str) -> str:
    return unicodedata.normalize("NFKC", name).translate(_CONFUSABLES)


def _letters(name: str) -> str:
    text = unicodedata.normalize("NFKD", _ascii_looks(name).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch for ch in text if ch.isalnum()).translate(_LOOK_ALIKES)


def fold(name: str) -> str:
    """The comparison key of a name: see the module docstring."""
    return _letters(name).translate(_DIGITS_AS_LETTERS)


def _marks_after_letters(name: str) -> set[int]:
    """Positions of combining marks that follow a letter (or up to MAX_MARKS - 1 marks
    after one)."""
    allowed: set[int] = set()
    run = 0
    for n, ch in enumerate(name):
        if unicodedata.category(ch).startswith("M"):
            run += 1
            if n > run - 1 and name[n - run].isalpha() and run <= MAX_MARKS:
                allowed.add(n)
        else:
            run = 0
    return allowed


def skeleton(name: str) -> str:
    """The key with the letters that pass for I, l or 1 kept as one mark of their own:
    "AIice" and "Alice" have one skeleton, "Ella" and "Elia" (keys apart) two."""
    return "|".join(fold(piece) for piece in _I_LIKE.split(_ascii_looks(name)))


def key_pattern(name: str) -> str | None:
    """A LIKE pattern of the keys of the names that may pass for this one: its key with
    each I, l or 1 as ``_`` (one character: an i or an l in the other name's key); None when
    it has none (then only its own key can). Compare skeletons after: most names it finds
    are just other names ("Elia" for "Ella")."""
    pieces = [fold(piece) for piece in _I_LIKE.split(_ascii_looks(name))]
    return "_".join(pieces) if len(pieces) > 1 else None


def check_name(value: str) -> tuple[str, str]:
    """The name as it will be stored (NFKC, spaces collapsed) and its key. Raises
    InvalidInput saying what is wrong."""
    if not isinstance(value, str):
        raise InvalidInput("a display name must be text")
    if len(value) > MAX_INPUT:
        raise InvalidInput(f"a display name is at most {MAX_CHARS} characters")
    for ch in value:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or ch in _INVISIBLE:
            raise InvalidInput(
                "a display name cannot hold control or invisible characters "
                f"(U+{ord(ch):04X}: {unicodedata.name(ch, 'unnamed')})"
            )
    name = " ".join(unicodedata.normalize("NFKC", value).split())
    if "@" in name:
        raise InvalidInput("a display name cannot be an e-mail address or hold an @")
    marks = _marks_after_letters(name)
    bad = sorted(
        {ch for n, ch in enumerate(name) if not (ch.isalnum() or ch in _PUNCTUATION or n in marks)}
    )
    if bad:
        # A combining mark alone shows as nothing readable: its code point and name instead.
        shown = " ".join(
            f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".strip()
            if unicodedata.category(ch).startswith("M")
            else ch
            for ch in bad[:5]
        )
        raise InvalidInput(
            f"a display name holds letters, digits, spaces and . - _ ' only (not {shown})"
        )
    if not MIN_CHARS <= len(name) <= MAX_CHARS:
        raise InvalidInput(
            f"a display name is {MIN_CHARS} to {MAX_CHARS} characters (this one has {len(name)})"
        )
    if not any(ch.isalpha() for ch in name):
        raise InvalidInput("a display name needs at least one letter")
    key = fold(name)
    for word in RESERVED_PARTS:
        if word in key:
            raise InvalidInput(f"a display name cannot contain {word!r}: it is kept for the site")
    if key in RESERVED_WHOLE:
        raise InvalidInput(f"{name!r} is kept for the site: choose another display name")
    if _DEFAULT.fullmatch(_letters(name)) or _DEFAULT.fullmatch(key):
        raise InvalidInput("names like 'reader-12' are the site's defaults: choose another")
    return name, key
