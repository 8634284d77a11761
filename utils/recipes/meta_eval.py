"""Meta-evaluation of caption metrics on world-v3 scenes, where every caption's truth is known exactly.

For each test scene, `candidate_set` writes captions of known quality: true ones (the complete caption, a
held-out paraphrase, a relation said the other way round) and ones with exactly one fact broken
(`grammar.CORRUPTIONS`), plus any captions supplied from outside (a retrieval baseline, a captioner's outputs),
each with its factual precision, recall and F1 against the scene. `score_candidates` scores every candidate with
the caption metrics against the scene's references, `kendall_table` says how well each metric ranks the
candidates by the truth, and `pairwise_agreement` and `failure_cases` find where a metric prefers a false
caption to a true one.
"""
from __future__ import annotations

import random
import re
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from scipy.stats import kendalltau

from ..data import grammar
from ..data.scene_graph import CONVERSE, Scene
from ..metrics import captions
from ..metrics.clipscore import clip_score, ref_clip_score
from ..metrics.facts import factual_precision_recall
from ..profiles import Profile

TRUE_KINDS = ("complete", "paraphrase", "reworded")  # candidates that state only true facts
TEXT_METRICS = ("BLEU-4", "ROUGE-L", "CIDEr-D", "SPICE-F1")
CLIP_METRICS = ("CLIP-S", "RefCLIP-S")
TRUTHS = ("f1", "precision", "recall")
_CONVERSE_WORD = {**CONVERSE, **{base: word for word, base in CONVERSE.items()}}
_RELATION_WORD = re.compile(r"\b(?:" + "|".join(_CONVERSE_WORD) + r")\b")


def candidate_set(scenes: Mapping[Hashable, Scene], seed: int = 0,
                  extra: Mapping[str, Mapping[Hashable, str]] | None = None
                  ) -> tuple[pd.DataFrame, dict[Hashable, list[str]]]:
    """Candidates and references for each scene, keyed by image id.

    References: `describe(scene)` without its complete caption and its listing caption, as human references
    rarely state everything. Candidates, one row each (columns image_id, kind, caption, precision, recall, f1):
    "complete" (every fact), "paraphrase" (the held-out listing caption), one per corruption kind that the scene
    allows (exactly one false fact), "reworded" (the "relation" corruption with the converse relation word: the
    same words, now true; scenes with two shapes or more), and `extra[kind][image_id]` for every kind and image
    given there.
    """
    extra = extra or {}
    for kind, by_image in extra.items():
        if kind in ("complete", "paraphrase", "reworded", *grammar.CORRUPTIONS):
            raise ValueError(f"extra kind {kind!r} is a kind candidate_set writes itself; name it differently.")
        unknown = [key for key in by_image if key not in scenes]
        if unknown:
            raise ValueError(f"extra[{kind!r}] has captions for images that are not among the scenes: {unknown[:3]}.")
    rng = random.Random(seed)
    rows, references = [], {}
    for key, scene in scenes.items():
        complete, listing, *refs = grammar.describe(scene, rng)
        references[key] = refs
        written = {"complete": complete, "paraphrase": listing}
        written |= {kind: grammar.corrupt(scene, kind, rng) for kind in grammar.corruptions_for(scene)}
        if "relation" in written:
            written["reworded"] = reworded(written["relation"])
        written |= {kind: by_image[key] for kind, by_image in extra.items() if key in by_image}
        for kind, caption in written.items():
            precision, recall = factual_precision_recall(caption, scene)
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            rows.append({"image_id": key, "kind": kind, "caption": caption, "precision": precision,
                         "recall": recall, "f1": f1})
    return pd.DataFrame(rows), references


def reworded(caption: str) -> str:
    """The caption with each relation word replaced by its converse ("left of" <-> "right of", "above" <->
    "below") and nothing else changed, which flips whether the relation holds."""
    return _RELATION_WORD.sub(lambda m: _CONVERSE_WORD[m.group(0)], caption)


def spice_f1(candidate: str, references: Sequence[str]) -> float:
    """SPICE's idea with the world's parser: F1 of the candidate's tuples against the union of the references'."""
    reference_tuples = set().union(*(grammar.parse(ref) for ref in references))
    return captions.tuple_f1(grammar.parse(candidate), reference_tuples)[2]


def text_metric_scores(candidates: pd.DataFrame, references: Mapping[Hashable, Sequence[str]]) -> pd.DataFrame:
    """BLEU-4, ROUGE-L, CIDEr-D and SPICE-F1 of every candidate row against its image's references.

    BLEU-4 and ROUGE-L are per caption. CIDEr-D's document frequencies come from the references of every image
    in `references`, the same for all candidates: it is scored kind by kind, each kind's corpus holding every
    image (an image without a caption of that kind gets an empty one, whose score is dropped).
    """
    _check_candidates(candidates, references)
    keys = list(zip(candidates["image_id"], candidates["kind"]))
    cands = dict(zip(keys, candidates["caption"]))
    refs = {key: references[key[0]] for key in keys}
    cider = {}
    for kind in candidates["kind"].unique():
        corpus = {image: cands.get((image, kind), "") for image in references}
        per_image = captions.cider_d(corpus, references).per_image
        cider |= {(image, kind): score for image, score in per_image.items() if (image, kind) in cands}
    return pd.DataFrame({"BLEU-4": captions.bleu(cands, refs)[4].per_image,
                         "ROUGE-L": captions.rouge_l(cands, refs).per_image,
                         "CIDEr-D": cider,
                         "SPICE-F1": {key: spice_f1(cands[key], refs[key]) for key in keys}},
                        index=pd.MultiIndex.from_tuples(keys)).set_axis(candidates.index)


def clip_metric_scores(candidates: pd.DataFrame, references: Mapping[Hashable, Sequence[str]],
                       images: Mapping[Hashable, torch.Tensor], model, tokenizer, profile: Profile,
                       batch_size: int = 256) -> pd.DataFrame:
    """CLIP-S and RefCLIP-S of every candidate row; `images[image_id]` is the image preprocessed for `model`."""
    _check_candidates(candidates, references)
    missing = sorted({key for key in candidates["image_id"] if key not in images}, key=str)
    if missing:
        raise ValueError(f"no image for image_id {missing[:3]}: pass images for every candidate's image.")
    scores = {"CLIP-S": [], "RefCLIP-S": []}
    for start in range(0, len(candidates), batch_size):
        rows = candidates.iloc[start:start + batch_size]
        batch = torch.stack([images[key] for key in rows["image_id"]])
        texts = list(rows["caption"])
        scores["CLIP-S"] += clip_score(model, tokenizer, batch, texts, profile).tolist()
        scores["RefCLIP-S"] += ref_clip_score(model, tokenizer, batch, texts,
                                              [list(references[key]) for key in rows["image_id"]], profile).tolist()
    return pd.DataFrame(scores, index=candidates.index)


def score_candidates(candidates: pd.DataFrame, references: Mapping[Hashable, Sequence[str]],
                     images: Mapping[Hashable, torch.Tensor], model, tokenizer, profile: Profile) -> pd.DataFrame:
    """`candidates` with a column per metric: `text_metric_scores` and `clip_metric_scores` side by side."""
    return pd.concat([candidates, text_metric_scores(candidates, references),
                      clip_metric_scores(candidates, references, images, model, tokenizer, profile)], axis=1)


def kendall_table(scores: pd.DataFrame, metrics: Sequence[str], truths: Sequence[str] = TRUTHS) -> pd.DataFrame:
    """Kendall's tau-b (scipy) of each metric (rows) with each truth column (columns), over all candidate rows."""
    absent = [c for c in (*metrics, *truths) if c not in scores.columns]
    if absent:
        raise ValueError(f"scores has no column {absent}; score the candidates first (score_candidates).")
    return pd.DataFrame({truth: [kendalltau(scores[m], scores[truth]).statistic for m in metrics]
                         for truth in truths}, index=pd.Index(metrics, name="metric"))


def pairwise_agreement(scores: pd.DataFrame, metrics: Sequence[str], kind_a: str, kind_b: str,
                       truth: str = "f1") -> pd.Series:
    """For each metric, the share of images where it orders their `kind_a` and `kind_b` captions as `truth` does.

    Only images with both kinds and a strict truth order count; a metric's tie counts as half right. NaN where
    no image has both kinds with different truths.
    """
    pairs = _paired(scores, kind_a, kind_b, truth)
    truth_sign = np.sign(pairs[f"{truth}_a"] - pairs[f"{truth}_b"])
    pairs, truth_sign = pairs[truth_sign != 0], truth_sign[truth_sign != 0]
    agreed = {m: np.sign(pairs[f"{m}_a"] - pairs[f"{m}_b"]) * truth_sign for m in metrics}  # +1, 0 (tie) or -1
    return pd.Series({m: float(((a + 1) / 2).mean()) for m, a in agreed.items()}, name=f"{kind_a} vs {kind_b}")


def failure_cases(scores: pd.DataFrame, metric: str, truer: str, falser: str, truth: str = "f1",
                  n: int = 1) -> pd.DataFrame:
    """The `n` images where `metric` most prefers the `falser` caption although `truth` ranks `truer` higher.

    "Most" is measured by the metric's gap in units of the metric's standard deviation over all candidates.
    Columns: image_id, both captions, the metric's score and the truth of each; empty when the metric never errs.
    """
    pairs = _paired(scores, truer, falser, truth)
    pairs = pairs[pairs[f"{truth}_a"] > pairs[f"{truth}_b"]]
    spread = scores[metric].std() or 1.0
    pairs = pairs.assign(gap=(pairs[f"{metric}_b"] - pairs[f"{metric}_a"]) / spread)
    worst = pairs[pairs["gap"] > 0].nlargest(n, "gap")
    return pd.DataFrame({"image_id": worst["image_id"], "metric": metric,
                         truer: worst["caption_a"], falser: worst["caption_b"],
                         f"{metric} ({truer})": worst[f"{metric}_a"], f"{metric} ({falser})": worst[f"{metric}_b"],
                         f"{truth} ({truer})": worst[f"{truth}_a"], f"{truth} ({falser})": worst[f"{truth}_b"]}
                        ).reset_index(drop=True)


def _paired(scores: pd.DataFrame, kind_a: str, kind_b: str, truth: str) -> pd.DataFrame:
    """One row per image holding both kinds: every column of the `kind_a` row suffixed _a, of `kind_b` _b."""
    if truth not in scores.columns:
        raise ValueError(f"scores has no truth column {truth!r}; choose one of {list(TRUTHS)}.")
    a, b = (scores[scores["kind"] == kind] for kind in (kind_a, kind_b))
    if a.empty or b.empty:
        raise ValueError(f"no candidate of kind {kind_a if a.empty else kind_b!r}; "
                         f"kinds present: {sorted(scores['kind'].unique())}.")
    return a.merge(b, on="image_id", suffixes=("_a", "_b"))


def _check_candidates(candidates: pd.DataFrame, references: Mapping[Hashable, Sequence[str]]) -> None:
    missing = [c for c in ("image_id", "kind", "caption") if c not in candidates.columns]
    if missing:
        raise ValueError(f"candidates has no column {missing}: build it with candidate_set.")
    if candidates.duplicated(["image_id", "kind"]).any():
        raise ValueError("candidates has two captions of one kind for one image; each (image_id, kind) once.")
    unknown = sorted({key for key in candidates["image_id"] if key not in references}, key=str)
    if unknown:
        raise ValueError(f"no references for image_id {unknown[:3]}: pass the references of candidate_set.")
