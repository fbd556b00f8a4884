"""Where a paper page's sections go (``app.state.paper_sections`` holds ``(place, section)``
pairs, see ``web/app.py``): the reader's actions on the paper, related papers, then the
discussion, so that a reader after related work does not scroll past every comment.

``HEAD`` sections go in the page head's row of actions, beside the PDF link: the upvote
button, which then stands in for the head's plain upvote count (one count on the page)."""

HEAD = 0
PAPER_ACTIONS = 10
RELATED_PAPERS = 20
DISCUSSION = 30
