"""Caption metrics as the COCO caption evaluation (pycocoevalcap) computes them: BLEU, ROUGE-L and CIDEr-D.

These are the references the captioning lab checks students against, so they are plain loops over n-gram counts,
and every pycocoevalcap quirk they reproduce is named where it happens: published numbers depend on them.
`tuple_f1` is SPICE's scoring idea on scene-graph tuples.

A corpus comes as two dicts keyed by image: `candidates[key]` is the one generated caption (a str) and
`references[key]` the list of human captions. Captions are tokenized with `tokenize`; pass
`tokenizer=str.split` for text that is tokenized already (what pycocoevalcap's scorers expect). Each metric
returns a `CorpusScore`: the corpus number that papers report and the score of every image.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import NamedTuple

Tokenizer = Callable[[str], list[str]]

BLEU_TINY, BLEU_SMALL = 1e-15, 1e-9  # pycocoevalcap's smoothing: (matches + tiny) / (total + small)


class CorpusScore(NamedTuple):
    """A metric over a corpus: `corpus` (the reported number) and `per_image` (keyed like the candidates)."""

    corpus: float
    per_image: dict[Hashable, float]


_CLITIC = re.compile(r"(n't|'s|'re|'ve|'ll|'d|'m)\b")
_TOKEN = re.compile(r"n't|'(?:s|re|ve|ll|d|m)\b"  # clitics, split off by _CLITIC
                    r"|\d+(?:,\d{3})+|(?:\w\.){2,}(?!\w)"  # 1,000 and u.s.
                    r"|\w+(?:[-./]\w+)*"  # words, with inner hyphens, dots and slashes
                    r"|\S")  # any other symbol on its own
_PUNCTUATION = set(".,;:!?-'\"`“”‘’–—")
# PTB writes brackets as -LRB- etc.; COCO's list of tokens to drop has them in upper case, but the tokenizer
# lower-cases its output first, so they survive as tokens.
_PTB_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-"}


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without punctuation, as COCO evaluation tokenizes captions.

    COCO runs Stanford's PTB tokenizer (Java) with lower-casing, then drops punctuation tokens; this regex
    version does the same without Java. Clitics are split off ("man's" -> "man 's", "don't" -> "do n't"),
    words keep inner hyphens, dots and slashes ("black-and-white", "3.5", "1,000", "u.s."), the marks
    .,;:!?- and quotes are dropped, other symbols ($, %, &) stay tokens. COCO quirk, reproduced: brackets
    stay too, as "-lrb-", "-rrb-" etc., because COCO's drop list spells them in upper case ("-LRB-") while
    the tokenizer has already lower-cased them. Known differences, rare in captions: PTB also keeps the dot
    of abbreviations ("mr.", "st."), splits "cannot" and "gonna", keeps "o'clock", "!!" and "?!" whole.
    """
    if not isinstance(text, str):
        raise ValueError(f"tokenize expects a str, got {type(text).__name__}: pass one caption at a time.")
    text = _CLITIC.sub(r" \1", text.lower().replace("’", "'"))
    return [_PTB_BRACKETS.get(token, token) for token in _TOKEN.findall(text) if token not in _PUNCTUATION]


def ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    """How often each n-gram (a tuple of n tokens) occurs in `tokens`."""
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists (dynamic programming, one row at a time)."""
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if token == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def bleu(candidates: Mapping[Hashable, str], references: Mapping[Hashable, Sequence[str]], max_n: int = 4,
         tokenizer: Tokenizer = tokenize) -> dict[int, CorpusScore]:
    """BLEU-1 ... BLEU-`max_n` as pycocoevalcap's `Bleu(4)` computes them; `result[4].corpus` is BLEU-4.

    Corpus BLEU is not the mean of the images' BLEU: matched and total n-gram counts and the lengths are summed
    over the corpus first, then BLEU-n = brevity penalty x geometric mean of the n-gram precisions p_1 ... p_n.
    - A candidate n-gram matches at most as often as it occurs in one reference (clipped counts).
    - The reference length of an image is the one "closest" to the candidate's, the shorter one on a tie.
    - Brevity penalty exp(1 - ref_len / cand_len) when the candidate side is shorter, else 1.
    - Smoothing: p_k = (matches + 1e-15) / (total + 1e-9), and the length ratio likewise. So a caption
      with no 4-gram match gets a tiny but non-zero per-image BLEU-4 (about 1e-4, not 0), and a caption
      exactly as long as its reference still gets a (negligible) brevity penalty.
    An empty candidate scores 0.
    """
    cands, refs = _tokenized(candidates, references, tokenizer)
    counts = {key: _bleu_counts(cands[key], refs[key], max_n) for key in cands}
    per_image = {key: _bleu_from_counts(c) for key, c in counts.items()}
    summed = _BleuCounts(matches=[sum(c.matches[k] for c in counts.values()) for k in range(max_n)],
                         totals=[sum(c.totals[k] for c in counts.values()) for k in range(max_n)],
                         length=sum(c.length for c in counts.values()),
                         ref_length=sum(c.ref_length for c in counts.values()))
    corpus = _bleu_from_counts(summed)
    return {n: CorpusScore(corpus[n - 1], {key: s[n - 1] for key, s in per_image.items()})
            for n in range(1, max_n + 1)}


class _BleuCounts(NamedTuple):
    matches: list[int]  # clipped candidate n-gram matches, n = 1 ... max_n
    totals: list[int]  # candidate n-grams, n = 1 ... max_n
    length: int  # candidate length
    ref_length: int  # the closest reference length


def _bleu_counts(cand: list[str], refs: list[list[str]], max_n: int) -> _BleuCounts:
    matches, totals = [], []
    for n in range(1, max_n + 1):
        max_ref_counts = Counter()
        for ref in refs:
            max_ref_counts |= ngram_counts(ref, n)  # | keeps the larger count of each n-gram
        cand_counts = ngram_counts(cand, n)
        matches.append(sum((cand_counts & max_ref_counts).values()))  # & keeps the smaller count: clipping
        totals.append(sum(cand_counts.values()))
    closest = min((len(ref) for ref in refs), key=lambda length: (abs(length - len(cand)), length))
    return _BleuCounts(matches, totals, len(cand), closest)


def _bleu_from_counts(counts: _BleuCounts) -> list[float]:
    """BLEU-1 ... BLEU-n from (summed) counts, smoothed as pycocoevalcap does."""
    scores, product = [], 1.0
    for k, (matched, total) in enumerate(zip(counts.matches, counts.totals), start=1):
        product *= (matched + BLEU_TINY) / (total + BLEU_SMALL)  # p_1 * ... * p_k
        scores.append(product ** (1 / k))  # their geometric mean
    ratio = (counts.length + BLEU_TINY) / (counts.ref_length + BLEU_SMALL)
    brevity_penalty = math.exp(1 - 1 / ratio) if ratio < 1 else 1.0
    return [score * brevity_penalty for score in scores]


def rouge_l(candidates: Mapping[Hashable, str], references: Mapping[Hashable, Sequence[str]], beta: float = 1.2,
            tokenizer: Tokenizer = tokenize) -> CorpusScore:
    """ROUGE-L as pycocoevalcap's `Rouge` computes it: an LCS-based F-score per image, averaged over images.

    With l_r the longest common subsequence of the candidate and reference r, precision P = max_r l_r / |c|
    and recall R = max_r l_r / |r| are maximised over the references separately (they may come from two
    different references), then F = (1 + beta^2) P R / (R + beta^2 P). beta = 1.2 weighs recall more.
    An empty candidate scores 0.
    """
    cands, refs = _tokenized(candidates, references, tokenizer)
    per_image = {key: _rouge_l_one(cands[key], refs[key], beta) for key in cands}
    return CorpusScore(_mean(per_image), per_image)


def _rouge_l_one(cand: list[str], refs: list[list[str]], beta: float) -> float:
    if not cand:
        return 0.0
    lcs = [lcs_length(cand, ref) for ref in refs]
    precision = max(length / len(cand) for length in lcs)
    recall = max(length / len(ref) for length, ref in zip(lcs, refs))
    if precision == 0 or recall == 0:
        return 0.0
    return (1 + beta ** 2) * precision * recall / (recall + beta ** 2 * precision)


def cider_d(candidates: Mapping[Hashable, str], references: Mapping[Hashable, Sequence[str]], max_n: int = 4,
            sigma: float = 6.0, tokenizer: Tokenizer = tokenize) -> CorpusScore:
    """CIDEr-D as pycocoevalcap's `Cider` computes it (what COCO reports as "CIDEr"), per image and averaged.

    Each caption becomes one tf-idf vector per n-gram order n = 1 ... max_n: term frequency x
    log(number of images / number of images whose references contain the n-gram). For each reference,
    the cosine of candidate and reference vectors, with the candidate's weights clipped at the reference's
    (a repeated word is not rewarded beyond the reference's count), times a gaussian length penalty
    exp(-(|c| - |r|)^2 / (2 sigma^2)); then the mean over n, the mean over references, and x 10.

    The document frequencies come from the references of the corpus passed in, so the CIDEr of one image
    depends on the other images scored with it: a one-image corpus always scores 0 (every idf is log 1).
    An n-gram in no reference gets the largest idf, log(number of images), which only enlarges the
    candidate's norm. pycocoevalcap measures lengths in bigrams (words - 1), which gives the same length
    differences except for an empty caption, whose score is 0 either way.
    """
    cands, refs = _tokenized(candidates, references, tokenizer)
    orders = range(1, max_n + 1)
    cand_grams = {key: [ngram_counts(tokens, n) for n in orders] for key, tokens in cands.items()}
    ref_grams = {key: [[ngram_counts(ref, n) for n in orders] for ref in refs[key]] for key in refs}
    document_frequency = Counter()
    for image_refs in ref_grams.values():  # an image counts once, however many of its references use the n-gram
        document_frequency.update({gram for ref in image_refs for counts in ref for gram in counts})
    log_images = math.log(len(cands))

    def tf_idf(counts: Counter) -> dict[tuple, float]:
        return {gram: tf * (log_images - math.log(max(1.0, document_frequency[gram]))) for gram, tf in counts.items()}

    per_image = {}
    for key, cand in cands.items():
        cand_vectors = [tf_idf(counts) for counts in cand_grams[key]]
        similarity = 0.0
        for ref, grams in zip(refs[key], ref_grams[key]):
            cosines = [_clipped_cosine(c, tf_idf(r)) for c, r in zip(cand_vectors, grams)]
            penalty = math.exp(-(len(cand) - len(ref)) ** 2 / (2 * sigma ** 2))
            similarity += penalty * sum(cosines) / max_n
        per_image[key] = 10.0 * similarity / len(refs[key])
    return CorpusScore(_mean(per_image), per_image)


def _clipped_cosine(cand: dict[tuple, float], ref: dict[tuple, float]) -> float:
    """Cosine of two sparse vectors, with each candidate weight capped at the reference's (CIDEr-D's clipping)."""
    dot = sum(min(weight, ref.get(gram, 0.0)) * ref.get(gram, 0.0) for gram, weight in cand.items())
    norms = math.sqrt(sum(w * w for w in cand.values())) * math.sqrt(sum(w * w for w in ref.values()))
    return dot / norms if norms else 0.0


def tuple_f1(candidate: set, reference: set) -> tuple[float, float, float]:
    """Precision, recall and F1 of a caption's scene-graph tuples against the reference's: SPICE's score.

    Tuples are objects ("dog",), attributes ("dog", "brown") and relations ("dog", "on", "grass"); SPICE
    parses them from the captions (all references' tuples form one reference graph). Here tuples match only
    when equal, whereas SPICE also matches lemmas and WordNet synonyms ("man" and "person" can match).
    Empty sets: 0/0 counts as 1 (no claim makes no false claim, nothing to find misses nothing), so two
    empty sets score (1, 1, 1) and an empty side against a non-empty one gets F1 = 0. F1 is 0 when
    precision + recall is 0.
    """
    for name, value in (("candidate", candidate), ("reference", reference)):
        if not isinstance(value, (set, frozenset)):
            raise ValueError(f"{name} is a {type(value).__name__}, not a set: pass set(tuples), "
                             "so that a repeated tuple counts once.")
    matched = len(candidate & reference)
    precision = matched / len(candidate) if candidate else 1.0
    recall = matched / len(reference) if reference else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _mean(scores: dict[Hashable, float]) -> float:
    return sum(scores.values()) / len(scores)


def _tokenized(candidates: Mapping[Hashable, str], references: Mapping[Hashable, Sequence[str]],
               tokenizer: Tokenizer) -> tuple[dict[Hashable, list[str]], dict[Hashable, list[list[str]]]]:
    """Check the two dicts and tokenize every caption; errors name the image and the fix."""
    if not isinstance(candidates, Mapping) or not isinstance(references, Mapping):
        raise ValueError("candidates and references must be dicts keyed by image: "
                         "{key: caption} and {key: [reference, ...]}.")
    if not candidates:
        raise ValueError("there are no candidates to score: candidates is empty.")
    missing = [key for key in candidates if key not in references]
    unused = [key for key in references if key not in candidates]
    if missing or unused:
        raise ValueError(f"candidates and references must have the same keys: {len(missing)} candidate(s) "
                         f"without references {missing[:3]}, {len(unused)} reference list(s) without a "
                         f"candidate {unused[:3]}. Score the same images on both sides.")
    cands, refs = {}, {}
    for key, caption in candidates.items():
        if not isinstance(caption, str):
            raise ValueError(f"candidates[{key!r}] is a {type(caption).__name__}, not a str: "
                             "give exactly one caption (a string) per image.")
        cands[key] = tokenizer(caption)
        image_refs = references[key]
        if isinstance(image_refs, str) or not isinstance(image_refs, Sequence):
            raise ValueError(f"references[{key!r}] is a {type(image_refs).__name__}, not a list of str: "
                             "wrap a single reference in a list.")
        if not image_refs:
            raise ValueError(f"references[{key!r}] is empty: every image needs at least one reference caption.")
        refs[key] = []
        for j, ref in enumerate(image_refs):
            if not isinstance(ref, str):
                raise ValueError(f"references[{key!r}][{j}] is a {type(ref).__name__}, not a str.")
            tokens = tokenizer(ref)
            if not tokens:
                raise ValueError(f"references[{key!r}][{j}] = {ref!r} has no words: remove it.")
            refs[key].append(tokens)
    return cands, refs
