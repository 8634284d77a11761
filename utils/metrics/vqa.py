"""VQA accuracy as the official evaluation script computes it (Antol et al. 2015; `vqaEval.py` of VQA v1/v2).

An answer is scored against the ten human answers to its question: each human answer is left out in turn, the
answer earns min(1, matches among the other nine / 3), and the ten results are averaged. So an answer that three
people gave scores 1.0 (almost: 0.3 * 2/3 + 0.7 * 1 = 0.9 when exactly three did), one that nobody gave 0.0.

Normalisation, with the script's quirks kept because published numbers depend on them:
- the predicted answer is always normalised: punctuation (`normalize_punctuation`), then lower case, number words
  to digits, articles dropped and contractions given their apostrophe (`normalize_digits_articles`);
- the human answers get the punctuation step only, and only when they are not all the same. The script assumes
  they were normalised when the data set was built (VQA's annotation files were), so an unnormalised set of ten
  identical "two" scores the predicted "two" (normalised to "2") as 0.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
ARTICLES = ("a", "an", "the")
PUNCTUATION = (";", ":", "/", "'", "[", "]", '"', "(", ")", "=", "+", "\\", "_", ">", "<", "@", "`", ",", "?")
# The script's table of contractions typed without their apostrophe, as "typed written" pairs (its quirks kept: the
# punctuation step has already turned every straight apostrophe into a space, so only keys without one, or with
# the curly one, can match; capitalised keys never do, the words being lower case; "somebody’d" loses its
# apostrophe). Straight and curly apostrophes are as in the script.
CONTRACTIONS = dict(pair.split(" ") for pair in (
    "aint ain't|arent aren't|cant can't|couldve could've|couldnt couldn't|couldn'tve couldn’t’ve|"
    "couldnt’ve couldn’t’ve|didnt didn’t|doesnt doesn’t|dont don’t|hadnt hadn’t|hadnt’ve hadn’t’ve|"
    "hadn'tve hadn’t’ve|hasnt hasn’t|havent haven’t|hed he’d|hed’ve he’d’ve|he’dve he’d’ve|hes he’s|howd how’d|"
    "howll how’ll|hows how’s|Id’ve I’d’ve|I’dve I’d’ve|Im I’m|Ive I’ve|isnt isn’t|itd it’d|itd’ve it’d’ve|"
    "it’dve it’d’ve|itll it’ll|let’s let’s|maam ma’am|mightnt mightn’t|mightnt’ve mightn’t’ve|"
    "mightn’tve mightn’t’ve|mightve might’ve|mustnt mustn’t|mustve must’ve|neednt needn’t|notve not’ve|"
    "oclock o’clock|oughtnt oughtn’t|ow’s’at ’ow’s’at|’ows’at ’ow’s’at|’ow’sat ’ow’s’at|shant shan’t|"
    "shed’ve she’d’ve|she’dve she’d’ve|she’s she’s|shouldve should’ve|shouldnt shouldn’t|"
    "shouldnt’ve shouldn’t’ve|shouldn’tve shouldn’t’ve|somebody’d somebodyd|somebodyd’ve somebody’d’ve|"
    "somebody’dve somebody’d’ve|somebodyll somebody’ll|somebodys somebody’s|someoned someone’d|"
    "someoned’ve someone’d’ve|someone’dve someone’d’ve|someonell someone’ll|someones someone’s|"
    "somethingd something’d|somethingd’ve something’d’ve|something’dve something’d’ve|somethingll something’ll|"
    "thats that’s|thered there’d|thered’ve there’d’ve|there’dve there’d’ve|therere there’re|theres there’s|"
    "theyd they’d|theyd’ve they’d’ve|they’dve they’d’ve|theyll they’ll|theyre they’re|theyve they’ve|twas ’twas|"
    "wasnt wasn’t|wed’ve we’d’ve|we’dve we’d’ve|weve we've|werent weren’t|whatll what’ll|whatre what’re|"
    "whats what’s|whatve what’ve|whens when’s|whered where’d|wheres where's|whereve where’ve|whod who’d|"
    "whod’ve who’d’ve|who’dve who’d’ve|wholl who’ll|whos who’s|whove who've|whyll why’ll|whyre why’re|"
    "whys why’s|wont won’t|wouldve would’ve|wouldnt wouldn’t|wouldnt’ve wouldn’t’ve|wouldn’tve wouldn’t’ve|"
    "yall y’all|yall’ll y’all’ll|y’allll y’all’ll|yall’d’ve y’all’d’ve|y’alld’ve y’all’d’ve|"
    "y’all’dve y’all’d’ve|youd you’d|youd’ve you’d’ve|you’dve you’d’ve|youll you’ll|youre you’re|youve you’ve"
).split("|"))
_DIGIT_COMMA_DIGIT = re.compile(r"\d,\d")
# The script's pattern is "(?!<=\d)(\.)(?!\d)": its first group is a lookahead, not the lookbehind it looks like,
# so a period goes unless a digit follows it ("2.5" keeps its period, "2." loses it). It also passes re.UNICODE
# (32) where `sub` expects a count, so at most 32 periods go.
_PERIOD = re.compile(r"\.(?!\d)")
_MAX_PERIODS = 32


def normalize_punctuation(text: str) -> str:
    """The script's punctuation step: each mark in PUNCTUATION is deleted where the text has it next to a space
    (or holds a digit-comma-digit anywhere), else turned into a space; then periods not followed by a digit go.
    Marks that are not in the list ("!", "-", "#", ...) stay."""
    out = text
    for mark in PUNCTUATION:
        delete = mark + " " in text or " " + mark in text or _DIGIT_COMMA_DIGIT.search(text)
        out = out.replace(mark, "" if delete else " ")
    return _PERIOD.sub("", out, count=_MAX_PERIODS)


def normalize_digits_articles(text: str) -> str:
    """The script's word step: lower case, split on white space, number words zero to ten as digits ("none" is
    "0"), articles dropped, apostrophe-less contractions restored; words joined by single spaces."""
    words = [NUMBER_WORDS.get(w, w) for w in text.lower().split() if NUMBER_WORDS.get(w, w) not in ARTICLES]
    return " ".join(CONTRACTIONS.get(w, w) for w in words)


def normalize_answer(text: str) -> str:
    """What the script makes of a predicted answer: new lines and tabs as spaces, stripped, then both steps."""
    return normalize_digits_articles(normalize_punctuation(text.replace("\n", " ").replace("\t", " ").strip()))


def agreement(prediction: str, human_answers: Sequence[str]) -> float:
    """The metric's three-of-ten rule on the strings as given: the mean over left-out humans of
    min(1, matches among the others / 3). No normalisation."""
    if not human_answers:
        raise ValueError("VQA accuracy needs the question's human answers (VQA has ten per question); got none.")
    matches = [h == prediction for h in human_answers]
    total = sum(matches)
    return sum(min(1.0, (total - hit) / 3) for hit in matches) / len(matches)


def vqa_accuracy(prediction: str, human_answers: Sequence[str]) -> float:
    """VQA accuracy of one predicted answer against its question's human answers (ten in VQA), as the script
    computes it: the prediction normalised, the human answers punctuation-normalised if they differ, then
    `agreement`."""
    humans = list(human_answers)
    if len(set(humans)) > 1:
        humans = [normalize_punctuation(h) for h in humans]
    return agreement(normalize_answer(prediction), humans)


def mean_vqa_accuracy(predictions: Sequence[str], human_answers: Sequence[Sequence[str]]) -> float:
    """Mean `vqa_accuracy` over questions (the script's "overall" number, as a fraction rather than a percent)."""
    if len(predictions) != len(human_answers) or not predictions:
        raise ValueError(f"got {len(predictions)} predictions for {len(human_answers)} questions; pass one "
                         "prediction per question, and at least one question.")
    return sum(vqa_accuracy(p, h) for p, h in zip(predictions, human_answers)) / len(predictions)
