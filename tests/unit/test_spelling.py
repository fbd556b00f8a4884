"""search._spelling.distance: the edit distance 'did you mean' bounds its corrections by."""

from __future__ import annotations

from paperroute.search._spelling import distance


def test_distance_counts_edits_and_swaps() -> None:
    assert distance("difus", "diffus") == 1  # an insertion
    assert distance("vido", "video") == 1
    assert distance("modl", "model") == 1
    assert distance("modle", "model") == 1  # a swap of neighbours counts one
    assert distance("graphem", "graphen") == 1  # a substitution
    assert distance("model", "model") == 0


def test_distance_stops_past_its_bound() -> None:
    assert distance("transformer", "diffusion") == 3  # bound 2: "more than 2"
    assert distance("ab", "abcdef") == 3  # lengths alone rule it out
    assert distance("kitten", "sitting", bound=5) == 3
