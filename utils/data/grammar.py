"""The caption grammar of world v3: one place that writes captions (`describe`, `corrupt`) and reads them (`parse`).

Facts
-----
A caption means a set of facts. A fact is a SPICE-style tuple of strings about the scene's *groups* (all
objects of one shape look alike, see `utils.data.scene_graph`), named by the singular shape noun:

    ("circle",)                      there is a circle
    ("circle", "red")                the circles are red; likewise a size ("small", "medium", "large")
                                     or a style ("solid", "striped", "outlined")
    ("circle", "two")                there are exactly two circles ("one" to "five")
    ("shape", "three")               there are exactly three objects in all
    ("circle", "left of", "square")  every circle is left of every square; likewise "above"

Relations are always stored as "left of" or "above": "a square to the right of a circle" and "a circle below a
square" mean ("circle", "left of", "square") and ("square", "above", "circle"), so each pair of groups has one
horizontal and one vertical fact. Only number words state counts: "a circle" says that a circle exists, which is
true when there are two ("one circle" is not).

Captions
--------
`describe` writes these templates (examples for two red circles left of and above a blue square):

    complete     three shapes, from left to right: two small striped red circles and one large solid blue square;
                 from top to bottom: the circles and the square
    listing      two red circles and one blue square
    inventory    there are three shapes: two circles and a square
    attributes   the circles are small, striped and red; the square is large, solid and blue
    horizontal   two small red circles to the left of a large blue square      (or "... to the right of ...")
    vertical     two striped red circles above a solid blue square              (or "... below ...")

Reading
-------
`parse` reads any text, left to right, word by word, and never fails: words it does not know are skipped.
A noun phrase is an optional number, adjectives and a shape noun ("two small red circles"); it states the
shape, its adjectives and its number. After "is"/"are", adjectives describe the noun phrase before the verb
("the circles are red"). A relation word links the noun phrase before it to the one after it
("a circle to the left of a square"). "from left to right:" and "from top to bottom:" order every noun phrase
that follows up to the next ";" or ".". Truncated or repeated phrases give the facts they contain.
"""
from __future__ import annotations

import dataclasses
import random
import re

from .scene_graph import COLORS, CONVERSE, ORDER_OF, SHAPES, SIZES, STYLES, Group, Scene, absent_by_co_occurrence

Fact = tuple[str, ...]
NUMBER_WORDS = ("one", "two", "three", "four", "five")  # NUMBER_WORDS[n - 1] names n
GENERIC_NOUN = "shape"  # counts every object: "three shapes"
CORRUPTIONS = ("color", "count", "relation", "object_added")
ORDER_MARKERS = {("left", "right"): ("left of", False), ("right", "left"): ("left of", True),
                 ("top", "bottom"): ("above", False), ("bottom", "top"): ("above", True)}
ATTRIBUTE_WORDS = {*COLORS, *SIZES, *STYLES}
CLAUSE_ENDS = {";", ".", "!", "?"}
# The two relation captions: (relation, its converse, the attributes their noun phrases mention)
RELATION_TEMPLATES = (("left of", "right of", ("size", "color")), ("above", "below", ("style", "color")))


def number_word(n: int) -> str:
    return NUMBER_WORDS[n - 1]


def plural(noun: str) -> str:
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


def counted(n: int, noun: str) -> str:
    """'one circle', 'three circles'."""
    return f"{number_word(n)} {noun if n == 1 else plural(noun)}"


def be(n: int) -> str:
    """The verb agreeing with n things: 'is' or 'are'."""
    return "is" if n == 1 else "are"


def with_article(phrase: str) -> str:
    """The phrase with its indefinite article: 'a red circle', 'an outlined square'."""
    return f"{'an' if phrase[0] in 'aeiou' else 'a'} {phrase}"


def canonical(fact: Fact) -> Fact:
    """The fact with its relation stated as "left of" or "above" (see the module docstring)."""
    if len(fact) == 3 and fact[1] in CONVERSE:
        return fact[2], CONVERSE[fact[1]], fact[0]
    return tuple(fact)


# ---------------------------------------------------------------- writing


def noun_phrase(group: Group, attributes: tuple[str, ...] = (), determiner: str = "a") -> str:
    """The group as a noun phrase: determiner "a" ("a red circle", "two red circles"), "number" ("one red circle")
    or "the" ("the red circles"); `attributes` name Group fields among "size", "style" and "color"."""
    noun = group.shape if group.count == 1 else plural(group.shape)
    words = " ".join([getattr(group, a) for a in attributes] + [noun])
    if determiner == "the":
        return f"the {words}"
    if determiner == "number" or group.count > 1:
        return f"{number_word(group.count)} {words}"
    return with_article(words)


def join(phrases: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"


def complete_caption(scene: Scene) -> str:
    """Every fact of the scene: the total, each group's count and look, and both orders."""
    groups = scene.groups()
    shapes = counted(len(scene.objects), GENERIC_NOUN)
    described = join([noun_phrase(g, ("size", "style", "color"), "number") for g in groups])
    if len(groups) == 1:
        return f"{shapes}: {described}"
    top_down = join([noun_phrase(g, determiner="the") for g in scene.groups("top to bottom")])
    return f"{shapes}, from left to right: {described}; from top to bottom: {top_down}"


def listing_caption(groups: list[Group]) -> str:
    """Count and colour of each group: 'two red circles and one blue square'."""
    return join([noun_phrase(g, ("color",), "number") for g in groups])


def inventory_caption(groups: list[Group], total: int) -> str:
    """'there are three shapes: two circles and a square'."""
    return f"there {be(total)} {counted(total, GENERIC_NOUN)}: {join([noun_phrase(g) for g in groups])}"


def attributes_caption(groups: list[Group]) -> str:
    """'the circles are small, striped and red; the square is large, solid and blue'."""
    return "; ".join(f"{noun_phrase(g, determiner='the')} {be(g.count)} {join([g.size, g.style, g.color])}"
                     for g in groups)


def relation_caption(subject: Group, relation: str, obj: Group, attributes: tuple[str, ...]) -> str:
    """'a small red circle to the left of a large blue square'; `relation` is any of the four relation words."""
    words = f"to the {relation}" if relation in ("left of", "right of") else relation
    return f"{noun_phrase(subject, attributes)} {words} {noun_phrase(obj, attributes)}"


def describe(scene: Scene, rng: random.Random | None = None) -> list[str]:
    """True captions of `scene`, the complete one first; `rng` picks the pair and wording of the relation captions
    (without it: the first two groups in each order, stated as "left of" and "above")."""
    groups = scene.groups()
    captions = [complete_caption(scene), listing_caption(groups), inventory_caption(groups, len(scene.objects)),
                attributes_caption(groups)]
    if len(groups) > 1:
        for relation, converse, attributes in RELATION_TEMPLATES:
            ordered = scene.groups(ORDER_OF[relation])
            i, j = sorted(rng.sample(range(len(ordered)), 2)) if rng else (0, 1)
            if rng and rng.random() < 0.5:  # the same fact, said the other way round
                captions.append(relation_caption(ordered[j], converse, ordered[i], attributes))
            else:
                captions.append(relation_caption(ordered[i], relation, ordered[j], attributes))
    return captions


def corruptions_for(scene: Scene) -> tuple[str, ...]:
    """The kinds of `corrupt` that this scene allows ("relation" needs two kinds of shape)."""
    return tuple(k for k in CORRUPTIONS if k != "relation" or len(scene.shapes) > 1)


def corrupt(scene: Scene, kind: str, rng: random.Random) -> str:
    """A fluent caption of `scene` in which exactly one fact is false.

    kind "color": one group's colour changed (listing template); "count": one group's number changed (listing);
    "relation": one relation reversed (horizontal or vertical template); "object_added": a shape that is absent
    but usually comes with the present ones, named without attributes (inventory template without the total).
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {kind!r}; choose one of {CORRUPTIONS}.")
    if kind not in corruptions_for(scene):
        raise ValueError(f"a scene with only {plural(scene.objects[0].shape)} has no relation to break; "
                         "check corruptions_for(scene) first.")
    groups = scene.groups()
    if kind in ("color", "count"):
        i = rng.randrange(len(groups))
        if kind == "color":
            changed = dataclasses.replace(groups[i], color=rng.choice([c for c in COLORS if c != groups[i].color]))
        else:
            changed = dataclasses.replace(groups[i], count=rng.choice([n for n in range(1, len(NUMBER_WORDS) + 1)
                                                                        if n != groups[i].count]))
        return listing_caption(groups[:i] + [changed] + groups[i + 1:])
    if kind == "relation":
        relation, _, attributes = rng.choice(RELATION_TEMPLATES)
        i, j = sorted(rng.sample(range(len(groups)), 2))
        ordered = scene.groups(ORDER_OF[relation])
        return relation_caption(ordered[j], relation, ordered[i], attributes)
    absent = absent_by_co_occurrence(scene)[0]
    phrases = [noun_phrase(g) for g in groups]
    phrases.insert(rng.randrange(len(phrases) + 1), with_article(absent))
    return join(phrases)


# ---------------------------------------------------------------- reading

_NOUNS = {**{s: s for s in (*SHAPES, GENERIC_NOUN)}, **{plural(s): s for s in (*SHAPES, GENERIC_NOUN)}}


class _Reader:
    """The state of `parse` inside one clause (a stretch of text up to ';' or '.')."""

    def __init__(self, facts: set[Fact]):
        self.facts = facts
        self.start_clause()

    def start_clause(self) -> None:
        self.adjectives: list[str] = []  # waiting for their noun
        self.number: str | None = None
        self.last_noun: str | None = None  # the latest noun phrase's shape
        self.after_verb = False  # after "is"/"are": adjectives describe `last_noun`
        self.relation: tuple[str | None, str] | None = None  # (subject, relation word) waiting for its object
        self.order: tuple[str, bool] | None = None  # ("left of" or "above", reversed) for a "from ... to ..." list
        self.ordered: list[str] = []

    def noun(self, shape: str) -> None:
        if shape == GENERIC_NOUN:
            if self.number:
                self.facts.add((GENERIC_NOUN, self.number))
            self.last_noun = None
        else:
            self.facts.add((shape,))
            self.facts.update((shape, word) for word in self.adjectives + [self.number] if word)
            if self.relation and self.relation[0] not in (None, shape):
                self.facts.add(canonical((self.relation[0], self.relation[1], shape)))
            if self.order:
                self.ordered.append(shape)
            self.last_noun = shape
        self.relation = None
        self.adjectives, self.number, self.after_verb = [], None, False

    def adjective(self, word: str) -> None:
        if self.after_verb and self.last_noun:
            self.facts.add((self.last_noun, word))
        else:
            self.adjectives.append(word)

    def determiner(self, number: str | None) -> None:
        self.number, self.after_verb = number, False

    def verb(self) -> None:
        self.after_verb = True

    def pause(self) -> None:
        """A comma or colon: no noun phrase runs across it."""
        self.adjectives, self.number = [], None

    def relation_word(self, relation: str) -> None:
        self.relation = (self.last_noun, relation)
        self.adjectives, self.number, self.after_verb = [], None, False

    def start_order(self, relation: str, reverse: bool) -> None:
        self.end_order()
        self.order, self.ordered = (relation, reverse), []

    def end_order(self) -> None:
        if self.order:
            relation, reverse = self.order
            shapes = self.ordered[::-1] if reverse else self.ordered
            self.facts.update((a, relation, b) for i, a in enumerate(shapes) for b in shapes[i + 1:] if a != b)
        self.order = None

    def end_clause(self) -> None:
        self.end_order()
        self.start_clause()


def parse(caption: str) -> set[Fact]:
    """The facts a caption states (conventions in the module docstring); unknown words are skipped."""
    if not isinstance(caption, str):
        raise TypeError(f"parse reads a caption string, got {type(caption).__name__}.")
    tokens = re.findall(r"[a-z]+|[,;:.!?]", caption.lower())
    facts: set[Fact] = set()
    reader = _Reader(facts)
    i = 0
    while i < len(tokens):
        word, ahead = tokens[i], tokens[i + 1:i + 4]
        if word == "from" and len(ahead) == 3 and ahead[1] == "to" and (ahead[0], ahead[2]) in ORDER_MARKERS:
            reader.start_order(*ORDER_MARKERS[ahead[0], ahead[2]])
            i += 3
        elif word in ("left", "right") and ahead[:1] == ["of"]:
            reader.relation_word(f"{word} of")
            i += 1
        elif word in ("above", "below"):
            reader.relation_word(word)
        elif word in _NOUNS:
            reader.noun(_NOUNS[word])
        elif word in ATTRIBUTE_WORDS:
            reader.adjective(word)
        elif word in NUMBER_WORDS or word in ("a", "an", "the"):
            reader.determiner(word if word in NUMBER_WORDS else None)
        elif word in ("is", "are"):
            reader.verb()
        elif word in (",", ":"):
            reader.pause()
        elif word in CLAUSE_ENDS:
            reader.end_clause()
        i += 1
    reader.end_clause()
    return facts


def object_mentions(caption: str) -> list[str]:
    """The shape named by each word of a caption that names one, in order, as CHAIR counts mentions: "two
    circles" is one mention, "a red circle left of a blue circle" two; the generic "shapes" names no object."""
    return [_NOUNS[w] for w in re.findall(r"[a-z]+", caption.lower()) if _NOUNS.get(w, GENERIC_NOUN) != GENERIC_NOUN]


def scene_facts(scene: Scene) -> set[Fact]:
    """Every fact true of `scene`, in `parse`'s conventions."""
    facts = {(GENERIC_NOUN, number_word(len(scene.objects)))}
    for g in scene.groups():
        facts |= {(g.shape,), (g.shape, number_word(g.count))}
        facts |= {(g.shape, g.color), (g.shape, g.size), (g.shape, g.style)}
    for relation, order in ORDER_OF.items():
        shapes = [g.shape for g in scene.groups(order)]
        facts |= {(a, relation, b) for i, a in enumerate(shapes) for b in shapes[i + 1:]}
    return facts
