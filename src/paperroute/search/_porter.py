"""The stems SQLite's FTS5 ``porter`` tokenizer makes, exactly (a port of
``fts5_tokenize.c``'s stemmer).

FTS5 stems with Martin Porter's own C version of his algorithm, which departs from the
published one that snowball's "porter" implements: "logi" -> "log" and "bli" -> "ble" in
step 2 ("methodology" is "methodolog" in the index, "methodologi" by snowball, a term no
paper holds), and "y" counts as a vowel anywhere but first in step 1's vowel test. A stem
that is not the index's makes a document frequency wrong (a common word looks unique) and a
match missed. Tokens under 3 or over 64 bytes are left as they are, as FTS5 leaves them.
The port works on the token's UTF-8 bytes (as latin-1 characters), as the C code does.
"""

from __future__ import annotations

from collections.abc import Callable

_MAX_TOKEN = 64  # FTS5_PORTER_MAX_TOKEN
_VOWELS = frozenset("aeiou")


def _vowel(c: str, y_is_vowel: bool) -> bool:
    return c in _VOWELS or (y_is_vowel and c == "y")


def _gobble_vc(s: str, start: int, end: int, prev_consonant: bool) -> int:
    """Past the first vowel-consonant sequence of s[start:end]: the index after its
    consonant, relative to ``start`` (0 when there is none)."""
    consonant = prev_consonant
    i = start
    while i < end:
        consonant = not _vowel(s[i], consonant)
        if not consonant:
            break
        i += 1
    i += 1
    while i < end:
        consonant = not _vowel(s[i], consonant)
        if consonant:
            return i + 1 - start
        i += 1
    return 0


def _m_gt0(s: str, n: int) -> bool:
    return _gobble_vc(s, 0, n, False) != 0


def _m_gt1(s: str, n: int) -> bool:
    first = _gobble_vc(s, 0, n, False)
    return bool(first) and _gobble_vc(s, first, n, True) != 0


def _m_eq1(s: str, n: int) -> bool:
    first = _gobble_vc(s, 0, n, False)
    return bool(first) and _gobble_vc(s, first, n, True) == 0


def _o_star(s: str, n: int) -> bool:
    """Ends consonant-vowel-consonant, the last not w, x or y."""
    if s[n - 1] in "wxy":
        return False
    mask = 0
    consonant = False
    for i in range(n):
        consonant = not _vowel(s[i], consonant)
        mask = (mask << 1) + consonant
    return (mask & 0x7) == 0x5


def _m_gt1_s_or_t(s: str, n: int) -> bool:
    return s[n - 1] in "st" and _m_gt1(s, n)


def _has_vowel(s: str, n: int) -> bool:
    return any(_vowel(s[i], i > 0) for i in range(n))


_Rule = tuple[str, str, Callable[[str, int], bool]]

# Each step's rules in the C code's order: the first suffix that the word ends with (and is
# longer than) is the only one tried; its condition (on the stem before it) decides.
_STEP2: tuple[_Rule, ...] = (
    ("ational", "ate", _m_gt0),
    ("tional", "tion", _m_gt0),
    ("enci", "ence", _m_gt0),
    ("anci", "ance", _m_gt0),
    ("izer", "ize", _m_gt0),
    ("logi", "log", _m_gt0),
    ("bli", "ble", _m_gt0),
    ("alli", "al", _m_gt0),
    ("entli", "ent", _m_gt0),
    ("eli", "e", _m_gt0),
    ("ousli", "ous", _m_gt0),
    ("ization", "ize", _m_gt0),
    ("ation", "ate", _m_gt0),
    ("ator", "ate", _m_gt0),
    ("alism", "al", _m_gt0),
    ("iveness", "ive", _m_gt0),
    ("fulness", "ful", _m_gt0),
    ("ousness", "ous", _m_gt0),
    ("aliti", "al", _m_gt0),
    ("iviti", "ive", _m_gt0),
    ("biliti", "ble", _m_gt0),
)
_STEP3: tuple[_Rule, ...] = (
    ("ical", "ic", _m_gt0),
    ("ness", "", _m_gt0),
    ("icate", "ic", _m_gt0),
    ("iciti", "ic", _m_gt0),
    ("ful", "", _m_gt0),
    ("ative", "", _m_gt0),
    ("alize", "al", _m_gt0),
)
_STEP4: tuple[_Rule, ...] = (
    ("al", "", _m_gt1),
    ("ance", "", _m_gt1),
    ("ence", "", _m_gt1),
    ("er", "", _m_gt1),
    ("ic", "", _m_gt1),
    ("able", "", _m_gt1),
    ("ible", "", _m_gt1),
    ("ant", "", _m_gt1),
    ("ement", "", _m_gt1),
    ("ment", "", _m_gt1),
    ("ent", "", _m_gt1),
    ("ion", "", _m_gt1_s_or_t),
    ("ou", "", _m_gt1),
    ("ism", "", _m_gt1),
    ("ate", "", _m_gt1),
    ("iti", "", _m_gt1),
    ("ous", "", _m_gt1),
    ("ive", "", _m_gt1),
    ("ize", "", _m_gt1),
)


def _step(s: str, rules: tuple[_Rule, ...]) -> str:
    for suffix, replacement, condition in rules:
        if len(s) > len(suffix) and s.endswith(suffix):
            stem = len(s) - len(suffix)
            return s[:stem] + replacement if condition(s, stem) else s
    return s


def _step1(s: str) -> str:
    # 1a: plurals.
    if s[-1] == "s":
        if s[-2] == "e":
            n = len(s)
            s = s[:-2] if (n > 4 and s[-4:-2] == "ss") or (n > 3 and s[-3] == "i") else s[:-1]
        elif s[-2] != "s":
            s = s[:-1]
    # 1b: -eed, -ed, -ing.
    removed = False
    if len(s) > 3 and s.endswith("eed"):
        if _m_gt0(s, len(s) - 3):
            s = s[:-1]
    elif len(s) > 2 and s.endswith("ed"):
        if _has_vowel(s, len(s) - 2):
            s, removed = s[:-2], True
    elif len(s) > 3 and s.endswith("ing") and _has_vowel(s, len(s) - 3):
        s, removed = s[:-3], True
    if removed:
        if len(s) > 2 and s[-2:] in ("at", "bl", "iz"):
            s += "e"
        else:
            c = s[-1]
            if not _vowel(c, False) and c not in "lsz" and len(s) > 1 and c == s[-2]:
                s = s[:-1]
            elif _m_eq1(s, len(s)) and _o_star(s, len(s)):
                s += "e"
    # 1c: y -> i after a vowel.
    if s[-1] == "y" and _has_vowel(s, len(s) - 1):
        s = s[:-1] + "i"
    return s


def _stem_bytes(s: str) -> str:
    s = _step1(s)
    s = _step(_step(_step(s, _STEP2), _STEP3), _STEP4)
    n = len(s)
    if s[-1] == "e" and (_m_gt1(s, n - 1) or (_m_eq1(s, n - 1) and not _o_star(s, n - 1))):
        s = s[:-1]
    n = len(s)
    if n > 1 and s[-1] == "l" and s[-2] == "l" and _m_gt1(s, n - 1):
        s = s[:-1]
    return s


def fts5_porter(token: str) -> str:
    """The term FTS5's ``porter`` tokenizer stores for ``token`` (already lower-case and
    without diacritics, as ``unicode61 remove_diacritics 2`` hands it over). Where FTS5
    cuts a character's bytes apart (a doubled last byte before "ed", as in "a\u1000ed"),
    the term it stores is not text: no string names it, so the token is returned."""
    if token.isascii():
        if not 3 <= len(token) <= _MAX_TOKEN:
            return token
        return _stem_bytes(token)
    data = token.encode("utf-8", "surrogatepass")
    if not 3 <= len(data) <= _MAX_TOKEN:
        return token
    stemmed = _stem_bytes(data.decode("latin-1")).encode("latin-1")
    try:
        return stemmed.decode("utf-8")
    except UnicodeDecodeError:
        return token
