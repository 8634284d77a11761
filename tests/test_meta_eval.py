import math

import pandas as pd
import pytest
import torch

from utils.data import grammar
from utils.data.grammar import scene_facts
from utils.data.scene_world import generate_scenes
from utils.metrics import captions
from utils.recipes import meta_eval

SCENES = dict(enumerate(generate_scenes(40, seed=5)))


@pytest.fixture(scope="module")
def built():
    return meta_eval.candidate_set(SCENES, seed=1)


def test_corruptions_break_exactly_one_fact_and_true_kinds_none(built):
    candidates, _ = built
    for row in candidates.itertuples():
        false = grammar.parse(row.caption) - scene_facts(SCENES[row.image_id])
        assert len(false) == (0 if row.kind in meta_eval.TRUE_KINDS else 1), (row.kind, row.caption, false)
        assert (row.precision == 1.0) == (row.kind in meta_eval.TRUE_KINDS)
        assert math.isclose(row.f1, 2 * row.precision * row.recall / (row.precision + row.recall))
    assert set(candidates.loc[candidates.kind == "complete", "recall"]) == {1.0}


def test_every_scene_gets_the_kinds_it_allows_and_references_hold_back_two_captions(built):
    candidates, references = built
    for key, scene in SCENES.items():
        kinds = set(candidates.loc[candidates.image_id == key, "kind"])
        reworded = {"reworded"} if len(scene.groups()) > 1 else set()
        assert kinds == {"complete", "paraphrase", *grammar.corruptions_for(scene), *reworded}
        complete, listing, *rest = grammar.describe(scene)
        assert len(references[key]) == len(rest) and complete not in references[key]


def test_reworded_swaps_relation_words_only_and_makes_the_broken_relation_true(built):
    assert meta_eval.reworded("a red circle to the left of two squares; a star below a cross") == \
        "a red circle to the right of two squares; a star above a cross"
    assert meta_eval.reworded("two red circles") == "two red circles"
    candidates, _ = built
    pairs = candidates.pivot(index="image_id", columns="kind", values="caption").dropna(subset=["relation"])
    assert len(pairs) > 10 and (pairs["reworded"] == pairs["relation"].map(meta_eval.reworded)).all()


def test_extra_captions_join_as_their_own_kind_and_unknown_images_are_refused():
    scenes = {k: SCENES[k] for k in (0, 1)}
    candidates, _ = meta_eval.candidate_set(scenes, extra={"model": {1: "a red circle"}})
    model = candidates[candidates.kind == "model"]
    assert list(model.image_id) == [1] and list(model.caption) == ["a red circle"]
    with pytest.raises(ValueError, match="not among the scenes"):
        meta_eval.candidate_set(scenes, extra={"model": {7: "a red circle"}})
    with pytest.raises(ValueError, match="writes itself"):
        meta_eval.candidate_set(scenes, extra={"color": {1: "a red circle"}})


def test_spice_f1_is_tuple_f1_against_the_union_of_the_references():
    refs = ["a red circle", "a circle to the left of a blue square"]
    # candidate: circle, square, (circle, red), (square, green); references: circle, square, (circle, red),
    # (square, blue), (circle, left of, square): 3 of 4 right, 3 of 5 found
    assert meta_eval.spice_f1("a red circle and a green square", refs) == pytest.approx(2 * 0.75 * 0.6 / 1.35)


def test_text_scores_match_the_metrics_called_directly(built):
    candidates, references = built
    scores = meta_eval.text_metric_scores(candidates, references)
    row = candidates[candidates.kind == "color"].iloc[3]
    key, refs = row.image_id, references[row.image_id]
    assert scores.loc[row.name, "BLEU-4"] == pytest.approx(captions.bleu({0: row.caption}, {0: refs})[4].corpus)
    assert scores.loc[row.name, "ROUGE-L"] == pytest.approx(captions.rouge_l({0: row.caption}, {0: refs}).corpus)
    # CIDEr-D: document frequencies of the whole test corpus, whatever the candidate's kind
    corpus = {image: (row.caption if image == key else "") for image in references}
    assert scores.loc[row.name, "CIDEr-D"] == pytest.approx(captions.cider_d(corpus, references).per_image[key])


def test_clip_scores_match_clip_score_row_by_row():
    from utils.metrics.clipscore import clip_score, ref_clip_score
    from utils.models.clip import create_clip
    from utils.profiles import PROFILES

    torch.manual_seed(0)
    model, _, tokenizer = create_clip("WorldCLIP-Micro")
    candidates, references = meta_eval.candidate_set({k: SCENES[k] for k in range(3)})
    images = {k: torch.randn(3, 32, 32) for k in range(3)}
    scores = meta_eval.clip_metric_scores(candidates, references, images, model, tokenizer, PROFILES["offline"],
                                          batch_size=4)
    row = candidates.iloc[5]
    args = (model, tokenizer, images[row.image_id][None], [row.caption])
    assert scores.loc[row.name, "CLIP-S"] == pytest.approx(clip_score(*args, PROFILES["offline"]).item(), abs=1e-5)
    assert scores.loc[row.name, "RefCLIP-S"] == pytest.approx(
        ref_clip_score(*args, [references[row.image_id]], PROFILES["offline"]).item(), abs=1e-5)
    with pytest.raises(ValueError, match="no image for image_id"):
        meta_eval.clip_metric_scores(candidates, references, {0: images[0]}, model, tokenizer, PROFILES["offline"])


def hand_scores() -> pd.DataFrame:
    """Two images, three kinds; metric "good" follows the truth, "bad" prefers the false caption on image 1."""
    return pd.DataFrame({"image_id": [0, 0, 0, 1, 1, 1],
                         "kind": ["true", "false", "other"] * 2,
                         "caption": ["t0", "f0", "o0", "t1", "f1", "o1"],
                         "f1": [1.0, 0.5, 0.2, 0.9, 0.4, 0.3],
                         "precision": [1.0, 0.5, 0.2, 0.9, 0.4, 0.3],
                         "recall": [6, 5, 4, 3, 2, 1],
                         "good": [6, 5, 1, 4, 3, 2],
                         "bad": [0.9, 0.1, 0.0, 0.2, 0.8, 0.5]})


def test_kendall_table_against_hand_counts():
    table = meta_eval.kendall_table(hand_scores(), ["good", "bad"])
    # no ties, so tau = (concordant - discordant) / 15 pairs. By recall (rows in order) "good" reads 6 5 1 4 3 2:
    # o0 is below t1, f1 and o1, 3 discordant pairs. By f1 it reads 6 4 5 3 2 1: only (t1, f0) is discordant.
    assert table.loc["good", "recall"] == pytest.approx((12 - 3) / 15)
    assert table.loc["good", "f1"] == pytest.approx((14 - 1) / 15)
    assert list(table.columns) == list(meta_eval.TRUTHS) and list(table.index) == ["good", "bad"]
    with pytest.raises(ValueError, match="no column"):
        meta_eval.kendall_table(hand_scores(), ["missing"])


def test_pairwise_agreement_and_failure_cases_on_a_hand_example():
    scores = hand_scores()
    agreement = meta_eval.pairwise_agreement(scores, ["good", "bad"], "true", "false")
    assert agreement.to_dict() == {"good": 1.0, "bad": 0.5}
    tied = scores.assign(f1=[1.0, 0.5, 0.2, 0.4, 0.4, 0.3])  # image 1's two captions now equally true: left out
    assert meta_eval.pairwise_agreement(tied, ["bad"], "true", "false")["bad"] == 1.0
    metric_tie = scores.assign(good=[5, 5, 1, 4, 3, 2])  # a tie on image 0 counts half
    assert meta_eval.pairwise_agreement(metric_tie, ["good"], "true", "false")["good"] == 0.75
    assert math.isnan(meta_eval.pairwise_agreement(tied.assign(f1=0.5), ["bad"], "true", "false")["bad"])
    assert meta_eval.failure_cases(scores, "good", "true", "false").empty
    worst = meta_eval.failure_cases(scores, "bad", "true", "false")
    assert len(worst) == 1 and worst.loc[0, "image_id"] == 1 and worst.loc[0, "false"] == "f1"
    assert worst.loc[0, "bad (false)"] == 0.8 and worst.loc[0, "f1 (true)"] == 0.9
    with pytest.raises(ValueError, match="no candidate of kind 'nope'"):
        meta_eval.pairwise_agreement(scores, ["good"], "true", "nope")
