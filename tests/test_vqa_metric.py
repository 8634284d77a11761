"""VQA accuracy pinned to the official evaluation script's current rule (GT-Vision-Lab/VQA, vqaEval.py since commit
a013f00) on hand-worked cases, every branch of it: identical and mixed answer sets, each mark of the punctuation
list and two that are not in it, digit-comma-digit, periods, number words, articles, contractions, spaces."""
import pytest

from utils.data.answers import PUNCTUATION, normalize_answer, normalize_digits_articles, normalize_punctuation
from utils.metrics.vqa import as_submitted, mean_vqa_accuracy, vqa_accuracy


@pytest.mark.parametrize("matches, expected", [
    (0, 0.0),
    (1, 0.3),  # nine left-outs see 1 match (1/3), the matching one sees none: 9/30
    (2, 0.6),  # 8 * 2/3 + 2 * 1/3 over 10
    (3, 0.9),  # 7 * 1 + 3 * 2/3 over 10
    (4, 1.0),
    (10, 1.0),
])
def test_leave_one_out_over_positions_min_three(matches, expected):
    humans = ["cat"] * matches + ["dog", "cow"] * ((10 - matches) // 2) + ["dog"] * ((10 - matches) % 2)
    assert vqa_accuracy("cat", humans) == pytest.approx(expected)


PUNCTUATION_CASES = [  # (text, after the punctuation step, why)
    ("rock/paper", "rock paper", "a mark with no space beside it becomes a space"),
    ("rock / paper", "rock  paper", "a mark with a space beside it is deleted"),
    ("yes ?", "yes ", "a space before it is enough"),
    ("(a) b", " a b", "each mark decides on the original text: '(' has no space beside it, ') ' has one"),
    ("x-ray", "x ray", "the hyphen is in the list"),
    ("yes!", "yes ", "so is the exclamation mark"),
    ("{a}", " a ", "and the braces"),
    ('say "hi"', "say hi", "one '\"' has a space beside it, so both are deleted"),
    ("10:30", "10:30", "the colon is not in the list"),
    ("it's", "it's", "nor is the apostrophe"),
    ("1,000", "1000", "a digit-comma-digit: every listed mark is deleted"),
    ("3,5 kg;4", "35 kg4", "digit-comma-digit anywhere deletes the other marks too"),
    ("a,b", "a b", "a comma between letters is an ordinary mark"),
    ("2.", "2", "a period not followed by a digit goes"),
    ("2.5 m.", "2.5 m", "a period followed by a digit stays"),
    ("e.g.", "eg", "periods inside words go"),
]


@pytest.mark.parametrize("text, expected, why", PUNCTUATION_CASES)
def test_punctuation_step(text, expected, why):
    assert normalize_punctuation(text) == expected, why


def test_the_list_is_the_scripts():
    assert set(PUNCTUATION) == set(';/[]"{}()=+\\_-><@`,?!')


@pytest.mark.parametrize("text, expected", [
    ("The Two Dogs", "2 dogs"),  # lower case, number word, article
    ("an apple a day", "apple day"),  # every article goes
    ("none", "0"),  # "none" is a number word
    ("ten", "10"),
    ("eleven", "eleven"),  # only zero to ten
    ("dont  know", "don't know"),  # repeated spaces collapse; a contraction gets its straight apostrophe
    ("isnt", "isn't"),
    ("couldn'tve", "couldn't've"),  # keys with an apostrophe match now that the apostrophe survives punctuation
    ("somebody'd", "somebodyd"),  # the table's quirk: it loses its apostrophe
    ("Im", "im"),  # capitalised keys never match lower-cased words
    ("a", ""),  # an answer that is only an article is empty
])
def test_digit_article_step(text, expected):
    assert normalize_digits_articles(text) == expected


def test_normalize_answer_is_both_steps_on_cleaned_text():
    assert normalize_answer(" The two-dogs!\n") == "2 dogs"
    assert normalize_answer("don't") == "don't"


@pytest.mark.parametrize("prediction, humans, expected", [
    # all ten identical: nothing is normalised, not even the prediction
    ("it's", ["it's"] * 10, 1.0),
    ("10:30", ["10:30"] * 10, 1.0),
    ("Yes", ["yes"] * 10, 0.0),
    ("two", ["two"] * 10, 1.0),
    ("2", ["two"] * 10, 0.0),
    ("yes", ["yes."] * 10, 0.0),
    (" yes\n", ["yes"] * 10, 1.0),  # white space is cleaned on every answer
    ("yes", ["yes\t"] * 10, 1.0),
    # not all identical: both sides go through both steps
    ("yes!", ["yes"] * 9 + ["no"], 1.0),
    ("Yes", ["yes"] * 9 + ["no"], 1.0),
    ("yes", ["Yes."] * 9 + ["no"], 1.0),
    ("2", ["two"] * 4 + ["red"] * 6, 1.0),
    ("two", ["2"] * 2 + ["3"] * 8, 0.6),
    ("dog", ["a dog"] * 9 + ["cat"], 1.0),
    ("don't", ["dont"] * 3 + ["no"] * 7, 0.9),
    ("1,000", ["1000"] * 3 + ["100"] * 7, 0.9),
    ("2.5", ["2.5"] * 2 + ["3"] * 8, 0.6),
    ("two  dogs", ["2 dogs"] * 4 + ["cat"] * 6, 1.0),
    ("x-ray", ["x ray"] * 3 + ["bone"] * 7, 0.9),
    ("red", ["red"] + ["blue"] * 9, 0.3),
])
def test_accuracy_normalises_only_mixed_answer_sets(prediction, humans, expected):
    assert vqa_accuracy(prediction, humans) == pytest.approx(expected)


def test_mean_and_errors():
    assert mean_vqa_accuracy(["yes", "no"], [["yes"] * 10, ["yes"] * 10]) == 0.5
    with pytest.raises(ValueError, match="one prediction per question"):
        mean_vqa_accuracy(["yes"], [])
    with pytest.raises(ValueError, match="human answers"):
        vqa_accuracy("yes", [])


def test_a_submission_is_written_the_way_the_data_set_writes_answers():
    raw = ["Two", "the circle.", "yes!"]
    assert as_submitted(raw) == ["2", "circle", "yes"]
    # against ten identical released answers only the submitted form scores
    assert vqa_accuracy(raw[0], ["2"] * 10) == 0.0
    assert vqa_accuracy(as_submitted(raw)[0], ["2"] * 10) == 1.0
