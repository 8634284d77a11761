"""VQA accuracy pinned to the official evaluation script's behaviour on hand-worked cases, quirks included."""
import pytest

from utils.data.answers import normalize_answer, normalize_digits_articles, normalize_punctuation
from utils.metrics.vqa import mean_vqa_accuracy, vqa_accuracy


@pytest.mark.parametrize("matches, expected", [
    (0, 0.0),
    (1, 0.3),  # nine left-outs see 1 match (1/3), the matching one sees none: 9/30
    (2, 0.6),  # 8 * 2/3 + 2 * 1/3 over 10
    (3, 0.9),  # 7 * 1 + 3 * 2/3 over 10
    (4, 1.0),
    (10, 1.0),
])
def test_leave_one_out_min_three(matches, expected):
    humans = ["cat"] * matches + ["dog", "cow"] * ((10 - matches) // 2) + ["dog"] * ((10 - matches) % 2)
    assert vqa_accuracy("cat", humans) == pytest.approx(expected)


def test_prediction_is_fully_normalised():
    humans = ["2"] * 5 + ["3"] * 5
    for said in ("two", "Two", "2.", " two\n", "the two", "2"):
        assert vqa_accuracy(said, humans) == 1.0, said
    assert vqa_accuracy("none", ["0"] * 4 + ["1"] * 6) == 1.0  # "none" counts as 0


def test_human_answers_normalised_only_when_they_differ():
    # ten identical raw answers are left alone: "two" is never turned into "2", so the prediction "two"
    # (which is) matches nothing; the script assumes the annotation file was normalised beforehand
    assert vqa_accuracy("two", ["two"] * 10) == 0.0
    assert vqa_accuracy("yes", ["yes."] * 10) == 0.0
    # once they differ, human answers get the punctuation step (but still not digits, articles or case)
    assert vqa_accuracy("yes", ["yes."] * 9 + ["no"]) == 1.0
    assert vqa_accuracy("two", ["two"] * 9 + ["3"]) == 0.0
    assert vqa_accuracy("dog", ["a dog"] * 9 + ["cat"]) == 0.0
    assert vqa_accuracy("yes", ["Yes"] * 9 + ["no"]) == 0.0


def test_punctuation_rules():
    assert normalize_punctuation("rock/paper") == "rock paper"  # no space beside it: a space
    assert normalize_punctuation("rock / paper") == "rock  paper"  # a space beside it: deleted
    assert normalize_punctuation("1,000") == "1000"  # a digit-comma-digit anywhere: every mark deleted
    assert normalize_punctuation("a,b") == "a b"
    assert normalize_punctuation("2.5 m.") == "2.5 m"  # a period before a digit stays
    assert normalize_punctuation("yes!") == "yes!"  # "!" is not in the script's list
    assert normalize_punctuation("don't") == "don t"


def test_words_digits_articles_contractions():
    assert normalize_digits_articles("The Two Dogs") == "2 dogs"
    assert normalize_digits_articles("an apple a day") == "apple day"
    assert normalize_digits_articles("dont  know") == "don’t know"  # curly apostrophe, as the script writes it
    assert normalize_digits_articles("eleven") == "eleven"  # only zero to ten
    assert normalize_answer("don't") == "don t"  # the apostrophe went in the punctuation step


def test_mean_and_errors():
    assert mean_vqa_accuracy(["yes", "no"], [["yes"] * 10, ["yes"] * 10]) == 0.5
    with pytest.raises(ValueError, match="one prediction per question"):
        mean_vqa_accuracy(["yes"], [])
    with pytest.raises(ValueError, match="human answers"):
        vqa_accuracy("yes", [])
