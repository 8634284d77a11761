"""Visual question answering data: the `vqa.parquet` contract, world questions with simulated annotators, and the
skewed and balanced splits that show language bias.

`vqa.parquet` has one row per question. Required: `image` (encoded PNG/JPEG bytes), `question`, `answer` (the
training target: the world's exact answer, or VQA's `multiple_choice_answer`), `answers` (the human answers,
ten in VQA, normalised as VQA's annotation files are), `question_type` and `answer_type` ("yes/no", "number"
or "other"). Optional: `image_id`, `split`.

World questions come from world-v3 scene graphs, so every answer is exact; ten simulated annotators then answer
each one the way people do (digits or number words, a trailing period, an article, "violet" for purple, now and
then a wrong answer), and their answers are normalised for release as VQA's were (`release`).
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..cache import cached
from .answers import normalize_answer
from .contract import VQAError, check_table
from .convert import assign_splits, encoded_image
from .grammar import be, noun_phrase, number_word, plural, with_article
from .pairs import load_pairs, read_parquet, write_parquet
from .scene_graph import COLORS, SHAPES, Scene

VQA_VERSION = 1  # bump when questions or annotators change: cached VQA tables key on it
REQUIRED = ("image", "question", "answer", "answers", "question_type", "answer_type")
ANSWER_TYPES = {"existence": "yes/no", "relation": "yes/no", "count": "number", "color": "other", "shape": "other"}
ANNOTATORS = 10
NUMBERS = [number_word(k) for k in range(1, 6)]  # the counts a world scene can have
MISTAKE_RATE = 0.05  # an annotator's chance of a wrong answer (a different answer of the same kind)


# world questions

def world_questions(scene: Scene) -> list[tuple[str, str, str]]:
    """Every question the VQA lab asks about `scene`, as (question, exact answer, question type): whether each
    shape is there, how many of each present shape, their colour, which shape has a colour that only one group
    has, and for each ordered pair of groups one of the four relations."""
    groups = scene.groups()
    qa = [(f"is there {with_article(s)}?", "yes" if s in scene.shapes else "no", "existence") for s in SHAPES]
    colours = Counter(g.color for g in groups)
    for g in groups:
        qa += [(f"how many {plural(g.shape)} are there?", number_word(g.count), "count"),
               (f"what color {be(g.count)} {noun_phrase(g, determiner='the')}?", g.color, "color")]
        if colours[g.color] == 1:
            qa.append((f"what shape is {g.color}?", g.shape, "shape"))
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            for relation in ("left of", "right of", "above", "below"):
                qa.append((f"{be(a.count)} {noun_phrase(a, determiner='the')} {relation} "
                           f"{noun_phrase(b, determiner='the')}?",
                           "yes" if scene.holds(a.shape, relation, b.shape) else "no", "relation"))
    return qa


def annotate(answer: str, question_type: str, rng: random.Random, n: int = ANNOTATORS) -> list[str]:
    """`n` simulated human answers to a question whose exact answer is `answer`, raw as people type them."""
    return [_typed(_believed(answer, question_type, rng), question_type, rng) for _ in range(n)]


def _believed(answer: str, question_type: str, rng: random.Random) -> str:
    """The answer an annotator settles on: the right one, or now and then another of the same kind."""
    if rng.random() >= MISTAKE_RATE:
        return answer
    others = {"yes/no": ["yes", "no"], "number": NUMBERS, "other": list(COLORS)
              if question_type == "color" else list(SHAPES)}[ANSWER_TYPES[question_type]]
    return rng.choice([a for a in others if a != answer])


def _typed(answer: str, question_type: str, rng: random.Random) -> str:
    """How an annotator types `answer`: digits or words for numbers, an article before a shape, a synonym, a period."""
    kind = ANSWER_TYPES[question_type]
    if kind == "number" and rng.random() < 0.5:
        answer = str(NUMBERS.index(answer) + 1)
    elif kind == "yes/no" and rng.random() < 0.08:
        answer = {"yes": "yeah", "no": "nope"}[answer]
    elif question_type == "shape" and rng.random() < 0.4:
        answer = rng.choice(["a", "the"]) + " " + answer
    elif answer == "purple" and rng.random() < 0.3:
        answer = "violet"
    return answer + "." if rng.random() < 0.1 else answer



def release(raw_answers: Sequence[str]) -> list[str]:
    """Human answers as a data set releases them: normalised as the metric normalises a prediction (VQA's
    evaluation script assumes its annotation files were prepared so)."""
    return [normalize_answer(a) for a in raw_answers]


def majority_answer(answers: Sequence[str]) -> str:
    """The most common of the human answers, the first such in order on a tie (VQA's `multiple_choice_answer`)."""
    return Counter(answers).most_common(1)[0][0]


def world_vqa(scenes: Sequence[Scene], images: Sequence[bytes], splits: Sequence[str], seed: int = 0) -> pd.DataFrame:
    """The `vqa.parquet` table of world scenes (image i, split i): each with its exact answer and ten simulated
    annotators' released answers. A test scene is asked every question `world_questions` has (so that the same
    question meets images with different answers, which the balanced split needs); any other scene one
    question of each type, drawn at random."""
    rng = random.Random(seed)
    rows = []
    for image_id, (scene, image, split) in enumerate(zip(scenes, images, splits, strict=True)):
        asked = world_questions(scene)
        if split != "test":
            by_type: dict[str, list[tuple[str, str, str]]] = {}
            for qa in asked:
                by_type.setdefault(qa[2], []).append(qa)
            asked = [rng.choice(candidates) for candidates in by_type.values()]
        rows += [{"image": image, "question": question, "answer": answer,
                  "answers": release(annotate(answer, kind, rng)), "question_type": kind,
                  "answer_type": ANSWER_TYPES[kind], "image_id": image_id, "split": split}
                 for question, answer, kind in asked]
    return pd.DataFrame(rows)


def world_vqa_file(pairs_path: str | Path, seed: int = 0) -> Path:
    """`world_vqa` of a world-v3 `pairs.parquet` (scenes, images, splits), written once to the course cache."""
    pairs = load_pairs(pairs_path)
    if "scene" not in pairs.columns or "split" not in pairs.columns:
        raise VQAError(f"{pairs_path} has no 'scene' and 'split' columns; world questions need world-v3 pairs "
                       "(utils.data.scene_pairs_file).")

    def build(path: Path) -> None:
        first = pairs.groupby("image_id", sort=True).head(1)
        save_vqa(world_vqa([Scene.from_json(s) for s in first["scene"]], list(first["image"]), list(first["split"]),
                           seed), path)

    return cached("vqa", "vqa.parquet", {"version": VQA_VERSION, "pairs": Path(pairs_path).parent.name, "seed": seed},
                  build, seed=seed)


# the contract

def validate_vqa(df: pd.DataFrame, source: str = "vqa table") -> None:
    """Raise `VQAError` naming the first row and column that break the contract."""
    check_table(df, source, REQUIRED, VQAError, unit="question",
                needs=f"A VQA table needs {list(REQUIRED)} (see utils.data.vqa).")
    for row, (question, answer, answers, kind) in enumerate(df[["question", "answer", "answers", "answer_type"]]
                                                            .itertuples(index=False)):
        if not isinstance(question, str) or not question.strip():
            raise VQAError(f"{source}: row {row}, column 'question' is empty or not text ({question!r}).")
        if not isinstance(answer, str) or not answer.strip():
            raise VQAError(f"{source}: row {row}, column 'answer' is empty or not text ({answer!r}); give the "
                           "answer to train on (e.g. the most common human answer).")
        if not isinstance(answers, (list, tuple, np.ndarray)) or len(answers) == 0 or not all(
                isinstance(a, str) for a in answers):
            raise VQAError(f"{source}: row {row}, column 'answers' must be a non-empty list of the human answers "
                           f"(ten in VQA), got {answers!r}.")
        if kind not in ("yes/no", "number", "other"):
            raise VQAError(f"{source}: row {row}, column 'answer_type' is {kind!r}; use 'yes/no', 'number' or 'other'.")


def save_vqa(df: pd.DataFrame, path: str | Path) -> Path:
    validate_vqa(df, source=str(path))
    return write_parquet(df, path)


def load_vqa(path: str | Path) -> pd.DataFrame:
    """Read and validate a `vqa.parquet` file; `answers` come back as lists of str."""
    df = read_parquet(path, VQAError, "Write one with utils.data.vqa.save_vqa(df, path) from a DataFrame with "
                                      f"columns {list(REQUIRED)}.")
    if "answers" in df.columns:
        df["answers"] = [list(a) if isinstance(a, np.ndarray) else a for a in df["answers"]]
    validate_vqa(df, source=str(path))
    return df


def vqa_from_hub_table(table: pd.DataFrame, limit: int, seed: int = 0) -> pd.DataFrame:
    """VQA v2 rows (columns `image`, `question`, `answers` as dicts with an 'answer', `multiple_choice_answer`,
    `question_type`, `answer_type`, `image_id`) -> the contract; `limit` questions drawn with `seed`, their
    images split 80/10/10 into train, val and test."""
    needed = ["image", "question", "answers", "multiple_choice_answer", "question_type", "answer_type", "image_id"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise VQAError(f"columns {missing} not found in the Hub table (it has {list(table.columns)}); pass a "
                       "VQA v2 table such as lmms-lab/VQAv2.")
    table = table.sample(n=min(limit, len(table)), random_state=seed)
    return assign_splits(pd.DataFrame({
        "image": [encoded_image(image) for image in table["image"]], "question": table["question"].str.lower().tolist(),
        "answer": table["multiple_choice_answer"].tolist(),
        "answers": [[a["answer"] for a in answers] for answers in table["answers"]],
        "question_type": table["question_type"].tolist(), "answer_type": table["answer_type"].tolist(),
        "image_id": [int(i) for i in table["image_id"]]}), seed=seed)


# language bias: a skewed split, and a balanced one

def favourite_answers(df: pd.DataFrame, by: str) -> dict[str, str]:
    """For each value of column `by` (e.g. the question), its most common `answer` in `df` (the first on a tie)."""
    return {key: majority_answer(list(rows["answer"])) for key, rows in df.groupby(by, sort=True)}


def skewed(df: pd.DataFrame, favourites: dict[str, str], by: str, keep_other: float, seed: int = 0) -> pd.DataFrame:
    """The rows whose answer is their group's favourite, and each other row with chance `keep_other`: a split
    whose answers lean the way `favourites` do, as VQA v1's did, so a model can score without looking."""
    rng = np.random.default_rng(seed)
    keep = [answer == favourites.get(key) or rng.random() < keep_other for key, answer in zip(df[by], df["answer"])]
    return df[keep].reset_index(drop=True)


def complementary_pairs(df: pd.DataFrame) -> pd.DataFrame:
    """A balanced split in the spirit of VQA v2: pairs of rows that ask the same question of two images and have
    different answers, so a model that does not look at the image answers at most one of each pair right.

    Within each question (questions in sorted order), rows are bucketed by answer, keeping the table's order;
    the first rows of the two fullest buckets (on a tie, the answers first in sorted order) form a pair, until
    at most one bucket has rows left. The result has a `pair` column (pair number), each pair's two rows next
    to each other.
    """
    chosen: list = []
    for _, rows in df.groupby("question", sort=True):
        buckets: dict[str, list] = {}
        for index, answer in zip(rows.index, rows["answer"]):
            buckets.setdefault(answer, []).append(index)
        while sum(bool(b) for b in buckets.values()) >= 2:
            a, b = sorted((k for k in buckets if buckets[k]), key=lambda k: (-len(buckets[k]), k))[:2]
            chosen += [buckets[a].pop(0), buckets[b].pop(0)]
    return df.loc[chosen].assign(pair=[k // 2 for k in range(len(chosen))]).reset_index(drop=True)
