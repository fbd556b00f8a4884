"""Search: the query language, keyword, semantic and hybrid search, similar papers.

``hub.search`` (a ``Searcher``) is the way in; these are its public types. Modules whose name
starts with ``_`` (the vector index, stored vectors and term bags, the semantic ranking) are
internal to the package.
"""

from ._index import default_index_folder
from ._terms import Bag, bags_after, count_bags, load_bags
from .embedder import Embedder
from .keyword import MARK_END, MARK_START, KeywordHit
from .query import Query, Term, parse_query, split_words
from .results import MAX_SEARCH_LIMIT, MAX_WINDOW, Mode, SearchResult, SimilarResult
from .service import Searcher

__all__ = [
    "MARK_END",
    "MARK_START",
    "MAX_SEARCH_LIMIT",
    "MAX_WINDOW",
    "Bag",
    "Embedder",
    "KeywordHit",
    "Mode",
    "Query",
    "SearchResult",
    "Searcher",
    "SimilarResult",
    "Term",
    "bags_after",
    "count_bags",
    "default_index_folder",
    "load_bags",
    "parse_query",
    "split_words",
]
