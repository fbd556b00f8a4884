"""arXiv's category taxonomy (https://arxiv.org/category_taxonomy), to tell a category a
reader may choose (a digest's, a search filter's) from a typo: ``cs.FOO`` names nothing."""

from __future__ import annotations

_SUBJECTS = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA "
    "NE NI OH OS PF PL RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA "
    "RA RT SG SP ST",
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an "
    "ed-ph flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
}
# Archives that are categories themselves (and the old, undivided astro-ph and cond-mat).
_WHOLE = "astro-ph cond-mat gr-qc hep-ex hep-lat hep-ph hep-th math-ph nucl-ex nucl-th quant-ph"

ARXIV_CATEGORIES: frozenset[str] = frozenset(
    [f"{archive}.{subject}" for archive, names in _SUBJECTS.items() for subject in names.split()]
    + _WHOLE.split()
)
ARXIV_ARCHIVES: frozenset[str] = frozenset(_SUBJECTS)
_BY_FOLDED = {name.casefold(): name for name in ARXIV_CATEGORIES | ARXIV_ARCHIVES}


def known_category(name: str) -> str | None:
    """arXiv's spelling of the category or archive ``name`` (any case: ``CS.cl`` ->
    ``cs.CL``; ``cs`` stands for all of it), or None when arXiv has no such thing."""
    return _BY_FOLDED.get(name.strip().casefold())
