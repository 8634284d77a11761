"""How VQA answers are written down: the official evaluation script's normalisation.

The reference is `PythonEvaluationTools/vqaEvaluation/vqaEval.py` of GT-Vision-Lab/VQA as it stands since commit
a013f00 (2021), the rule behind today's published VQA v2 numbers. The data side uses `normalize_answer` to release
simulated human answers as VQA's annotation files were prepared; `utils.metrics.vqa` decides when the rule applies.
"""
from __future__ import annotations

import re

NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
ARTICLES = ("a", "an", "the")
# The script's list, in its order. Not in it: the colon, the apostrophe, the period (it has its own rule).
PUNCTUATION = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",",
               "?", "!")
# The script's table of contractions typed without their apostrophe, as "typed written" pairs, quirks kept: keys
# are matched against lower-cased words, so the capitalised ones ("Im", "Ive") never match, and "somebody'd"
# loses its apostrophe instead of gaining one.
CONTRACTIONS = dict(pair.split(" ") for pair in (
    "aint ain't|arent aren't|cant can't|couldve could've|couldnt couldn't|couldn'tve couldn't've|"
    "couldnt've couldn't've|didnt didn't|doesnt doesn't|dont don't|hadnt hadn't|hadnt've hadn't've|"
    "hadn'tve hadn't've|hasnt hasn't|havent haven't|hed he'd|hed've he'd've|he'dve he'd've|hes he's|howd how'd|"
    "howll how'll|hows how's|Id've I'd've|I'dve I'd've|Im I'm|Ive I've|isnt isn't|itd it'd|itd've it'd've|"
    "it'dve it'd've|itll it'll|let's let's|maam ma'am|mightnt mightn't|mightnt've mightn't've|"
    "mightn'tve mightn't've|mightve might've|mustnt mustn't|mustve must've|neednt needn't|notve not've|"
    "oclock o'clock|oughtnt oughtn't|ow's'at 'ow's'at|'ows'at 'ow's'at|'ow'sat 'ow's'at|shant shan't|"
    "shed've she'd've|she'dve she'd've|she's she's|shouldve should've|shouldnt shouldn't|"
    "shouldnt've shouldn't've|shouldn'tve shouldn't've|somebody'd somebodyd|somebodyd've somebody'd've|"
    "somebody'dve somebody'd've|somebodyll somebody'll|somebodys somebody's|someoned someone'd|"
    "someoned've someone'd've|someone'dve someone'd've|someonell someone'll|someones someone's|"
    "somethingd something'd|somethingd've something'd've|something'dve something'd've|somethingll something'll|"
    "thats that's|thered there'd|thered've there'd've|there'dve there'd've|therere there're|theres there's|"
    "theyd they'd|theyd've they'd've|they'dve they'd've|theyll they'll|theyre they're|theyve they've|twas 'twas|"
    "wasnt wasn't|wed've we'd've|we'dve we'd've|weve we've|werent weren't|whatll what'll|whatre what're|"
    "whats what's|whatve what've|whens when's|whered where'd|wheres where's|whereve where've|whod who'd|"
    "whod've who'd've|who'dve who'd've|wholl who'll|whos who's|whove who've|whyll why'll|whyre why're|"
    "whys why's|wont won't|wouldve would've|wouldnt wouldn't|wouldnt've wouldn't've|wouldn'tve wouldn't've|"
    "yall y'all|yall'll y'all'll|y'allll y'all'll|yall'd've y'all'd've|y'alld've y'all'd've|"
    "y'all'dve y'all'd've|youd you'd|youd've you'd've|you'dve you'd've|youll you'll|youre you're|youve you've"
).split("|"))
_DIGIT_COMMA_DIGIT = re.compile(r"\d,\d")
# The script's pattern is "(?!<=\d)(\.)(?!\d)": its first group is a lookahead, not the lookbehind it looks like,
# so a period goes unless a digit follows it ("2.5" keeps its period, "2." loses it). It also passes re.UNICODE
# (32) where `sub` expects a count, so at most 32 periods go.
_PERIOD = re.compile(r"\.(?!\d)")
_MAX_PERIODS = 32


def normalize_punctuation(text: str) -> str:
    """The script's `processPunctuation`: each mark in PUNCTUATION is deleted where the text has it next to a space
    (or holds a digit-comma-digit anywhere), else turned into a space; then periods not followed by a digit go.
    Marks that are not in the list (":", "'", "#", ...) stay."""
    out = text
    for mark in PUNCTUATION:
        delete = mark + " " in text or " " + mark in text or _DIGIT_COMMA_DIGIT.search(text)
        out = out.replace(mark, "" if delete else " ")
    return _PERIOD.sub("", out, count=_MAX_PERIODS)


def normalize_digits_articles(text: str) -> str:
    """The script's `processDigitArticle`: lower case, split on white space, number words zero to ten as digits
    ("none" is "0"), articles dropped, apostrophe-less contractions restored; words joined by single spaces."""
    words = [NUMBER_WORDS.get(w, w) for w in text.lower().split() if NUMBER_WORDS.get(w, w) not in ARTICLES]
    return " ".join(CONTRACTIONS.get(w, w) for w in words)


def clean_whitespace(text: str) -> str:
    """What the script does to every answer, human or predicted: new lines and tabs as spaces, ends stripped."""
    return text.replace("\n", " ").replace("\t", " ").strip()


def normalize_answer(text: str) -> str:
    """Both of the script's steps on a cleaned answer: punctuation, then digits, articles and contractions."""
    return normalize_digits_articles(normalize_punctuation(clean_whitespace(text)))
