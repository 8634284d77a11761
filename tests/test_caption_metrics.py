import math
import random

import pytest
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge

from utils.metrics.captions import bleu, cider_d, lcs_length, rouge_l, tokenize, tuple_f1

COCO_LIKE = {
    "candidates": {
        "cats": "An orange cat and a grey cat are lying together.",
        "dog": "A black dog looks at the camera!",
        "bus": "a red bus (a double-decker) on a street",
        "kitchen": "A kitchen with a stove, a sink, and a refrigerator",
        "short": "Two dogs",
        "empty": "...",
        "copy": "A man's riding a horse on the beach.",
    },
    "references": {
        "cats": ["Two cats are sleeping next to each other.", "A grey cat is cuddling with an orange cat on a blanket.",
                 "The orange cat is happy that the black cat is close to it."],
        "dog": ["A dog is wearing ear muffs as it lies on a carpet.",
                "A black dog and an orange cat are looking at the photographer.",
                "Headphones are placed on a dog's ears."],
        "bus": ["A red double-decker bus driving down a street.", "A bus on a city street."],
        "kitchen": ["A kitchen that has a stove and a fridge in it.", "A clean kitchen with white cabinets.",
                    "A stove, a sink and a refrigerator in a small kitchen.", "An empty kitchen.",
                    "The kitchen has wooden cabinets and a sink."],
        "short": ["Two dogs play in the snow.", "Dogs running through the snow."],
        "empty": ["A plate of food on a table."],
        "copy": ["A man's riding a horse on the beach.", "A person rides a horse by the sea."],
    },
}


def coco_scores(candidates, references):
    """pycocoevalcap's BLEU-1..4, ROUGE-L and CIDEr on our tokenization, per image in the candidates' key order."""
    res = {key: [" ".join(tokenize(caption))] for key, caption in candidates.items()}
    gts = {key: [" ".join(tokenize(ref)) for ref in references[key]] for key in candidates}
    bleu_corpus, bleu_images = Bleu(4).compute_score(gts, res, verbose=0)
    scores = {f"bleu{n}": (bleu_corpus[n - 1], bleu_images[n - 1]) for n in range(1, 5)}
    scores["rouge_l"] = Rouge().compute_score(gts, res)
    scores["cider_d"] = Cider().compute_score(gts, res)
    return scores


def assert_matches_coco(candidates, references):
    ours = {f"bleu{n}": score for n, score in bleu(candidates, references).items()}
    ours["rouge_l"] = rouge_l(candidates, references)
    ours["cider_d"] = cider_d(candidates, references)
    for metric, (corpus, per_image) in coco_scores(candidates, references).items():
        assert ours[metric].corpus == pytest.approx(corpus, abs=1e-6), metric
        assert list(ours[metric].per_image.values()) == pytest.approx(list(per_image), abs=1e-6), metric


def test_coco_like_examples_match_pycocoevalcap():
    assert_matches_coco(COCO_LIKE["candidates"], COCO_LIKE["references"])


def random_corpus(rng: random.Random, n_images: int):
    """Captions over a small vocabulary (so that 3- and 4-grams match), with the edge cases every corpus needs."""
    vocab = "a the red blue green circle square big small left of above two three and".split()

    def sentence(shortest: int, longest: int) -> str:
        return " ".join(rng.choices(vocab, k=rng.randint(shortest, longest)))

    candidates, references = {}, {}
    for i in range(n_images):
        refs = [sentence(3, 12) for _ in range(rng.randint(1, 5))]
        kind = i % 5
        if kind == 0:  # a reference with a few words replaced
            words = rng.choice(refs).split()
            candidates[i] = " ".join(w if rng.random() < 0.7 else rng.choice(vocab) for w in words)
        elif kind == 1:
            candidates[i] = sentence(1, 2)  # very short
        else:
            candidates[i] = sentence(3, 15)
        references[i] = refs
    candidates[0] = "zebra xylophone quietly"  # no n-gram in common with anything
    candidates[n_images - 1] = references[n_images - 1][0]  # identical to a reference
    return candidates, references


def test_random_corpus_of_200_images_matches_pycocoevalcap():
    assert_matches_coco(*random_corpus(random.Random(0), 200))


@pytest.mark.parametrize("n_images", [1, 2, 5])
def test_small_random_corpora_match_pycocoevalcap(n_images):
    for seed in range(10):
        assert_matches_coco(*random_corpus(random.Random(seed), n_images))


def test_bleu_by_hand():
    # candidate (6 words): "a red circle above a square"; references of 8 and 3 words.
    # closest reference length: |8 - 6| = 2 < |3 - 6| = 3, so 8: brevity penalty exp(1 - 8/6) = exp(-1/3).
    # 1-grams: a, a, red, circle, above, square all in reference 1 (which has "a" twice): p1 = 6/6
    # 2-grams: "a red", "red circle", "above a" match; "circle above", "a square" do not: p2 = 3/5
    # 3-grams: only "a red circle" matches: p3 = 1/4;  4-grams: none match: p4 = 0/3 (smoothed to 1e-15/3)
    scores = bleu({0: "a red circle above a square"}, {0: ["a red circle is above a blue square", "a red circle"]})
    penalty = math.exp(-1 / 3)
    assert scores[1].corpus == pytest.approx(penalty, rel=1e-6)
    assert scores[2].corpus == pytest.approx(penalty * (1 * 3 / 5) ** (1 / 2), rel=1e-6)
    assert scores[3].corpus == pytest.approx(penalty * (1 * 3 / 5 * 1 / 4) ** (1 / 3), rel=1e-6)
    # BLEU-4 without a single 4-gram match is tiny but not 0: that is the smoothing
    assert scores[4].corpus == pytest.approx(penalty * (3 / 5 * 1 / 4 * 1e-15 / 3) ** (1 / 4), rel=1e-6)
    assert 0 < scores[4].corpus < 1e-4
    assert scores[4].per_image[0] == scores[4].corpus  # one image: corpus and image BLEU agree


def test_bleu_closest_length_tie_goes_to_the_shorter_reference():
    # 5 words, references of 4 and 6 words: both 1 away; the 4-word one is taken, so no brevity penalty
    scores = bleu({0: "a red circle and square"}, {0: ["a red circle square", "a red circle and a square"]})
    assert scores[1].corpus == pytest.approx(1.0)


def test_corpus_bleu_is_not_the_mean_of_image_bleu():
    scores = bleu({0: "a red circle", 1: "two blue squares left of a green circle"},
                  {0: ["a red circle"], 1: ["two small squares above a circle"]})
    per_image = scores[2].per_image
    assert scores[2].corpus != pytest.approx(sum(per_image.values()) / 2, abs=1e-3)


def test_rouge_l_by_hand_takes_precision_and_recall_from_different_references():
    assert lcs_length("a red circle above a square".split(), "a red circle is above a blue square".split()) == 6
    # one reference: P = 6/6, R = 6/8, F = (1 + 1.2^2) P R / (R + 1.2^2 P)
    one = rouge_l({0: "a red circle above a square"}, {0: ["a red circle is above a blue square"]})
    assert one.corpus == pytest.approx(2.44 * 0.75 / (0.75 + 1.44))
    # a second reference "a red circle" has recall 3/3: max P = 1 and max R = 1 give F = 1
    two = rouge_l({0: "a red circle above a square"}, {0: ["a red circle is above a blue square", "a red circle"]})
    assert two.corpus == pytest.approx(1.0)


def test_cider_of_an_image_depends_on_the_corpus():
    candidates = {0: "a big red circle", 1: "two blue squares left"}
    references = {0: ["a big red circle"], 1: ["two green squares left"]}
    alone = cider_d({0: candidates[0]}, {0: references[0]})
    assert alone.corpus == 0.0  # one image: every n-gram is in every reference set, idf = log(1/1) = 0
    together = cider_d(candidates, references)
    assert together.per_image[0] == pytest.approx(10.0)  # identical to its only reference, all idf > 0
    assert 0 < together.per_image[1] < 10.0


def test_cider_of_a_caption_under_four_words_cannot_reach_ten():
    # "a red circle" has no 4-gram: its 4-gram similarity is 0 and the mean over n = 1..4 is at most 3/4
    scores = cider_d({0: "a red circle", 1: "two blue squares left"},
                     {0: ["a red circle"], 1: ["two green squares left"]})
    assert scores.per_image[0] == pytest.approx(7.5)


def test_tokenize_matches_coco_ptb_tokenization():
    # expected: Stanford PTBTokenizer 3.4.1 (-preserveLines -lowerCase) then COCO's punctuation filter
    assert tokenize("A man's riding a horse.") == ["a", "man", "'s", "riding", "a", "horse"]
    assert tokenize("Two dogs don't play in the snow!") == ["two", "dogs", "do", "n't", "play", "in", "the", "snow"]
    assert tokenize("The dogs' ball is red, and the cat's isn't.") == [
        "the", "dogs", "ball", "is", "red", "and", "the", "cat", "'s", "is", "n't"]
    assert tokenize('A black-and-white photo of 3.5 cats; "really" cute.') == [
        "a", "black-and-white", "photo", "of", "3.5", "cats", "really", "cute"]
    assert tokenize("A person (wearing a hat) near a $5 sign & 50% off...") == [
        "a", "person", "-lrb-", "wearing", "a", "hat", "-rrb-", "near", "a", "$", "5", "sign", "&", "50", "%", "off"]
    assert tokenize("She can't see the 'sign' -- it's too far.") == [
        "she", "ca", "n't", "see", "the", "sign", "it", "'s", "too", "far"]
    assert tokenize("A u.s. flag, 1,000 cats/dogs and a 10-year-old in a t-shirt") == [
        "a", "u.s.", "flag", "1,000", "cats/dogs", "and", "a", "10-year-old", "in", "a", "t-shirt"]
    assert tokenize("A ‘quoted’ word, “double quotes”, an em—dash and they’re here") == [
        "a", "quoted", "word", "double", "quotes", "an", "em", "dash", "and", "they", "'re", "here"]


def test_tuple_f1_by_hand_and_empty_sets():
    candidate = {("dog",), ("dog", "brown"), ("dog", "on", "grass")}
    reference = {("dog",), ("dog", "on", "grass"), ("grass",), ("dog", "black")}
    precision, recall, f1 = tuple_f1(candidate, reference)
    assert (precision, recall) == pytest.approx((2 / 3, 2 / 4))
    assert f1 == pytest.approx(4 / 7)  # 2 P R / (P + R) = (2/3) / (7/6)
    assert tuple_f1(set(), set()) == (1.0, 1.0, 1.0)
    assert tuple_f1(set(), reference) == (1.0, 0.0, 0.0)
    assert tuple_f1(candidate, set()) == (0.0, 1.0, 0.0)
    assert tuple_f1({("cat",)}, {("dog",)}) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="not a set"):
        tuple_f1([("dog",)], reference)


@pytest.mark.parametrize("candidates, references, message", [
    ({0: "a cat", 1: "a dog"}, {0: ["a cat"], 2: ["a dog"]}, "same keys"),
    ({0: "a cat"}, {0: []}, "at least one reference"),
    ({0: ["a cat"]}, {0: ["a cat"]}, r"candidates\[0\] is a list"),
    ({0: "a cat"}, {0: "a cat"}, "wrap a single reference in a list"),
    ({0: "a cat"}, {0: ["a cat", None]}, r"references\[0\]\[1\] is a NoneType"),
    ({0: "a cat"}, {0: ["a cat", "..."]}, "has no words"),
    ({}, {}, "no candidates"),
])
def test_bad_input_is_a_clear_error(candidates, references, message):
    for metric in (bleu, rouge_l, cider_d):
        with pytest.raises(ValueError, match=message):
            metric(candidates, references)
