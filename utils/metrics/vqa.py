"""VQA accuracy as the official evaluation script computes it (Antol et al. 2015), at its current version.

The reference is `PythonEvaluationTools/vqaEvaluation/vqaEval.py` of GT-Vision-Lab/VQA since commit a013f00 (2021).
An answer is scored against the ten human answers to its question: each human answer is left out in turn (by
position), the answer earns min(1, matches among the other nine / 3), and the ten results are averaged. So an
answer that four or more people gave scores 1.0, three 0.9 (0.3 * 2/3 + 0.7 * 1), one 0.3, none 0.0.

Before comparing, every answer has new lines and tabs turned into spaces and its ends stripped. Then:
- when the human answers are **not all identical**, they and the prediction go through both normalisation steps
  (`utils.data.answers`: punctuation, then lower case, number words to digits, articles and contractions);
- when they **are all identical**, nothing is normalised, not even the prediction: "Yes" against ten "yes"
  scores 0, "it's" against ten "it's" scores 1.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..data.answers import clean_whitespace, normalize_answer


def agreement(prediction: str, human_answers: Sequence[str]) -> float:
    """The metric's three-of-ten rule on the strings as given: the mean over left-out positions of
    min(1, matches among the other positions / 3). No normalisation."""
    if not human_answers:
        raise ValueError("VQA accuracy needs the question's human answers (VQA has ten per question); got none.")
    matches = [h == prediction for h in human_answers]
    total = sum(matches)
    return sum(min(1.0, (total - hit) / 3) for hit in matches) / len(matches)


def vqa_accuracy(prediction: str, human_answers: Sequence[str]) -> float:
    """VQA accuracy of one predicted answer against its question's human answers (ten in VQA), as the script
    computes it: white space cleaned; both sides normalised only when the human answers differ; `agreement`."""
    humans = [clean_whitespace(h) for h in human_answers]
    predicted = clean_whitespace(prediction)
    if len(set(humans)) > 1:
        humans = [normalize_answer(h) for h in humans]
        predicted = normalize_answer(predicted)
    return agreement(predicted, humans)


def as_submitted(answers: Sequence[str]) -> list[str]:
    """Answers written as a VQA submission should be: normalised the way the data set writes its answers (what
    LLaVA's and lmms-eval's `EvalAIAnswerProcessor` does to every prediction before it is scored), because the
    script compares a prediction verbatim with a question's human answers when they are all identical."""
    return [normalize_answer(a) for a in answers]


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
