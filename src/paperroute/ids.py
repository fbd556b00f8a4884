"""Identifiers: arXiv ids (new and old style, with versions), DOIs, content hashes.

A paper's canonical id is its arXiv id without version; failing that ``doi:<lower-cased DOI>``;
failing that ``hash:<16 hex>`` of its normalised title and first author, so that the same
paper without identifiers imported twice still lands once.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import NamedTuple

from .errors import InvalidInput

# New style (0704 onwards): YYMM.NNNN (to 1412) or YYMM.NNNNN (from 1501).
_NEW = r"(?P<new>\d{4}\.\d{4,5})"
# Old style: archive(.SUBJ)?/YYMMNNN, e.g. hep-th/9901001, math.AG/0601001.
_OLD = r"(?P<old>[a-z][a-z\-]{1,20}(?:\.[A-Z]{2})?/\d{7})"
_ARXIV_RE = re.compile(rf"^(?:{_NEW}|{_OLD})(?:v(?P<version>\d+))?$")
_PREFIXES = re.compile(
    r"^(?:arxiv:|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)", re.IGNORECASE
)
_DOI_RE = re.compile(r"^10\.\d{4,9}/[^\s\x00-\x1f\x7f]+$")
_DOI_PREFIX = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)


class ArxivId(NamedTuple):
    """An arXiv identifier split into its versionless id and optional version."""

    id: str
    version: int | None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse ``2401.01234v3``, ``arXiv:2401.01234``, ``hep-th/9901001``, an abs/PDF URL.

    Raises InvalidInput when ``text`` is not an arXiv id.
    """
    raw = text.strip()
    value = _PREFIXES.sub("", raw)
    if value.lower().endswith(".pdf"):
        value = value[:-4]
    value = value.rstrip("/")
    match = _ARXIV_RE.match(value)
    if match is None:
        raise InvalidInput(f"not an arXiv id: {raw[:80]!r}")
    base = match.group("new") or match.group("old")
    new = match.group("new")
    if new is not None:
        yymm = int(new[:4])
        month = yymm % 100
        # The 5-digit form starts in 1501; 4 digits run to 1412.
        if not 1 <= month <= 12 or (len(new) == 10) != (yymm >= 1501):
            raise InvalidInput(f"not an arXiv id: {raw[:80]!r}")
    version = match.group("version")
    return ArxivId(base, int(version) if version else None)


def try_arxiv_id(text: str | None) -> ArxivId | None:
    """``parse_arxiv_id`` that answers None instead of raising."""
    if not text:
        return None
    try:
        return parse_arxiv_id(text)
    except InvalidInput:
        return None


def normalize_doi(text: str) -> str:
    """Lower-case a DOI and strip ``doi:`` / resolver prefixes; raise InvalidInput if not one."""
    value = _DOI_PREFIX.sub("", text.strip()).strip().lower()
    if not _DOI_RE.match(value) or len(value) > 300:
        raise InvalidInput(f"not a DOI: {text[:80]!r}")
    return value


def try_doi(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return normalize_doi(text)
    except InvalidInput:
        return None


def arxiv_id_from_doi(doi: str) -> ArxivId | None:
    """arXiv's own DOIs (10.48550/arXiv.2401.01234) name an arXiv id."""
    match = _ARXIV_DOI.match(doi)
    return try_arxiv_id(match.group(1)) if match else None


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


_FOLDED_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d",
                                  "þ": "th", "ı": "i"})  # fmt: skip


def fold_name(name: str) -> str:
    """A name without case, accents or extra spacing: "A. Altar Lüser" -> "a. altar luser"."""
    text = unicodedata.normalize("NFKD", " ".join(name.split()).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_FOLDED_LETTERS)
    return unicodedata.normalize("NFC", text)


def surname_key(name: str) -> str:
    """The folded last word of a name ("Ashish Vaswani" -> "vaswani"), for telling apart
    two papers that share a title."""
    words = _fold(name).split()
    return words[-1] if words else ""


def title_hash(title: str) -> int:
    """A signed 64-bit hash of the title without case, accents, punctuation or spacing: finds
    the stored paper that a record without ids describes."""
    digest = hashlib.blake2b(_fold(title).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def content_hash_id(title: str, first_author: str | None) -> str:
    """A stable id for a paper with neither arXiv id nor DOI."""
    key = _fold(title) + "|" + _fold(first_author or "")
    return "hash:" + hashlib.sha256(key.encode()).hexdigest()[:16]


def canonical_id(
    arxiv_id: str | None, doi: str | None, title: str, first_author: str | None
) -> str:
    if arxiv_id:
        return arxiv_id
    if doi:
        return f"doi:{doi}"
    return content_hash_id(title, first_author)
