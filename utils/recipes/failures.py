"""Sort retrieval failures into kinds a person can act on (Lab 3's failure analysis).

`categorise` reads one failed query from its caption, the captions of the image ranked first, the
training vocabulary and how alike the two images look to the model. `confusion_kind` compares the scene
graphs of the wanted and the retrieved image of the world: which of colour and shape the model got wrong.
"""
from __future__ import annotations

import re
from collections import Counter

FAILURE_KINDS = ("ambiguous caption", "out-of-distribution", "visually similar", "miss")
CONFUSION_KINDS = ("wrong shape", "wrong colour", "wrong colour and shape", "same colours and shapes")


def words(text: str) -> list[str]:
    """Lower-case word tokens of a caption, punctuation dropped: 'A teal star.' -> ['a', 'teal', 'star']."""
    return re.findall(r"[\w'-]+", text.lower())


def categorise(query: str, top_captions: list[str], vocabulary: set[str], look_alike: float,
               threshold: float) -> str:
    """The failure kind of a query whose own image was not ranked first, checked in `FAILURE_KINDS` order.

    ambiguous caption: the query is also one of the captions of the image ranked first.
    out-of-distribution: a word of the query (see `words`) is not in the training `vocabulary`.
    visually similar: the wanted and the first image's embeddings have cosine `look_alike` >= `threshold`.
    miss: none of these.
    """
    if query in top_captions:
        return "ambiguous caption"
    if any(w not in vocabulary for w in words(query)):
        return "out-of-distribution"
    if look_alike >= threshold:
        return "visually similar"
    return "miss"


def confusion_kind(wanted: dict, got: dict) -> str:
    """Which of colour and shape differ between two world scene graphs (`Scene.to_json`, parsed).

    Compares the sets of colours and the sets of shapes. Equal sets ("same colours and shapes") mean the
    error lies elsewhere: how colours bind to shapes, positions, sizes, counts or the background.
    """
    colours = {o["color"] for o in wanted["objects"]} == {o["color"] for o in got["objects"]}
    shapes = {o["shape"] for o in wanted["objects"]} == {o["shape"] for o in got["objects"]}
    if colours and shapes:
        return "same colours and shapes"
    if colours:
        return "wrong shape"
    return "wrong colour" if shapes else "wrong colour and shape"


def tally(kinds: list[str], order: tuple[str, ...]) -> dict[str, int]:
    """How many of each kind, in `order`, zeros included."""
    counts = Counter(kinds)
    return {k: counts[k] for k in order}
