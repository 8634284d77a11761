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

from collections.abc import Sequence

import pandas as pd

from ..data.answers import normalize_answer, normalize_punctuation


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


def accuracy_by_type(table: pd.DataFrame, predictions: dict[str, Sequence[str]]) -> pd.DataFrame:
    """Mean VQA accuracy of each model's predictions, per question type and overall (rows: types; columns: models)."""
    scores = {name: [vqa_accuracy(p, h) for p, h in zip(preds, table["answers"], strict=True)]
              for name, preds in predictions.items()}
    frame = pd.DataFrame(scores).assign(question_type=list(table["question_type"]))
    out = frame.groupby("question_type").mean()
    out.loc["all"] = frame.drop(columns="question_type").mean()
    return out
