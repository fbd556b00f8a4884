"""LaTeX text to Unicode: the accents, escapes and symbols that bibliographies and arXiv
metadata use in titles and names.

Only text-mode markup is decoded; ``$...$`` math is left as written (arXiv keeps TeX math in
titles, and turning ``$\\hbar$`` into something else would lose information). Unknown
commands keep their argument's text (``\\emph{Deep}`` -> ``Deep``) or, without an argument,
their name (``\\LaTeX`` -> ``LaTeX``), so nothing a reader needs disappears.
"""

from __future__ import annotations

import re
import unicodedata

# Accent command -> combining character.
_ACCENTS = {
    "`": "\u0300",
    "'": "\u0301",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    "u": "\u0306",
    ".": "\u0307",
    '"': "\u0308",
    "r": "\u030a",
    "H": "\u030b",
    "v": "\u030c",
    "d": "\u0323",
    "c": "\u0327",
    "k": "\u0328",
    "b": "\u0331",
    "t": "\u0361",
}

_SYMBOLS = {
    "o": "ø",
    "O": "Ø",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "ss": "ß",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "dh": "ð",
    "DH": "Ð",
    "th": "þ",
    "TH": "Þ",
    "ng": "ŋ",
    "NG": "Ŋ",
    "textendash": "–",
    "textemdash": "—",
    "ldots": "…",
    "dots": "…",
    "textbackslash": "\\",
    "textasciitilde": "~",
    "textasciicircum": "^",
    "textquoteright": "’",
    "textquoteleft": "‘",
    "textquotedblleft": "“",
    "textquotedblright": "”",
    "textregistered": "®",
    "texttrademark": "™",
    "copyright": "©",
    "textcopyright": "©",
    "S": "§",
    "P": "¶",
    "pounds": "£",
    "euro": "€",
    "textdegree": "°",
    "textunderscore": "_",
    "textbar": "|",
    "textless": "<",
    "textgreater": ">",
    "guillemotleft": "«",
    "guillemotright": "»",
    "space": " ",
    "quad": " ",
    "qquad": " ",
    "relax": "",
    "protect": "",
    "noopsort": "",
}
# Greek letters appear outside math in hand-written bibliographies (\alpha-helix).
for _name, _char in zip(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "eta",
        "theta",
        "iota",
        "kappa",
        "lambda",
        "mu",
        "nu",
        "xi",
        "pi",
        "rho",
        "sigma",
        "tau",
        "upsilon",
        "phi",
        "chi",
        "psi",
        "omega",
    ],
    "αβγδεζηθικλμνξπρστυφχψω",
    strict=True,
):
    _SYMBOLS[_name] = _char
for _name, _char in zip(
    ["Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"],
    "ΓΔΘΛΞΠΣΥΦΨΩ",
    strict=True,
):
    _SYMBOLS[_name] = _char

# Symbols that join the next word in TeX ("\\textbackslash emph" is "\\emph").
_GLUED = {"textbackslash", "textasciitilde", "textasciicircum", "textunderscore"}

_TOKEN = re.compile(
    r"""
    (?P<math>\$[^$]*\$)
    | \\(?P<acc>[`'^"~=.])\s*
        (?:\{\s*(?P<accb>\\[ij](?![A-Za-z])|[A-Za-z])?\s*\}|(?P<accl>\\[ij](?![A-Za-z])|[A-Za-z]))
    | \\(?P<lacc>[uvHckrdbt])
        (?:\s*\{\s*(?P<laccb>\\[ij](?![A-Za-z])|[A-Za-z])?\s*\}|\s+(?P<laccl>[A-Za-z]))
    | \\(?P<esc>[&%$#_{}\ ,;!/@\-])
    | \\(?P<cmd>[A-Za-z]+)(?P<arg>\s*\{)?(?P<space>\s*)
    | (?P<brace>[{}])
    | (?P<dash>---?)
    | (?P<tilde>~)
    """,
    re.VERBOSE,
)
_SPECIAL = re.compile(r"[\\{}$~]|--")


def _base(letter: str | None) -> str:
    if not letter:
        return ""
    # \i and \j are dotless so that accents can sit on them; Unicode composes on i and j.
    return {"\\i": "i", "\\j": "j"}.get(letter, letter)


def _replace(match: re.Match[str]) -> str:
    group = match.lastgroup
    if group == "math":
        return match.group(0)
    if group in ("accb", "accl", "acc"):
        letter = _base(match.group("accb") or match.group("accl"))
        mark = _ACCENTS[match.group("acc")]
        return unicodedata.normalize("NFC", letter + mark) if letter else ""
    if group in ("laccb", "laccl", "lacc"):
        letter = _base(match.group("laccb") or match.group("laccl"))
        mark = _ACCENTS[match.group("lacc")]
        return unicodedata.normalize("NFC", letter + mark) if letter else ""
    if group == "esc":
        char = match.group("esc")
        return "" if char in "-/@" else (" " if char in " ,;!" else char)
    if group in ("cmd", "arg", "space"):
        name = match.group("cmd")
        # TeX swallows the space after a control word; keep one where a word ends there.
        space = " " if match.group("space") else ""
        if name in _SYMBOLS:
            symbol = _SYMBOLS[name]
            return symbol if symbol.isalpha() or name in _GLUED else symbol + space
        # An unknown command with an argument keeps the argument's text; without one (or with
        # an empty one, "\\LaTeX{}"), its name.
        if match.group("arg") and not match.string.startswith("}", match.end()):
            return ""
        return name + space
    if group == "brace":
        return ""
    if group == "dash":
        return "—" if len(match.group("dash")) == 3 else "–"
    return "\u00a0" if group == "tilde" else match.group(0)


def latex_to_unicode(text: str) -> str:
    """Decode LaTeX accents, escapes and common symbols; strip grouping braces outside math.

    ``{\\"o}``, ``\\"{o}``, ``\\"o`` -> ``ö``; ``\\c{c}`` -> ``ç``; ``\\&`` -> ``&``;
    ``{{BV Master Action}}`` -> ``BV Master Action``; ``--`` -> ``–``.
    """
    if not _SPECIAL.search(text):
        return text
    return _TOKEN.sub(_replace, text)
