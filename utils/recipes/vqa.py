"""Lab 8's visual question answering: the data and its splits, the VLM and the blind baseline, and the scores.

`t4` joins OpenAI's ViT-B-32 to SmolLM2-135M-Instruct and trains on VQA v2 questions (`lmms-lab/VQAv2`);
`offline` joins the scene world's CLIP to the world LM and trains on world questions whose answers are exact.
The training split is skewed (each question's favourite answer kept, other answers thinned), the blind
baseline is the same LM fine-tuned on the questions alone, and the balanced test split holds complementary
pairs (`utils.data.vqa`). One code path; `RECIPES` holds the sizes.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from torch.utils.data import DataLoader
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ..data import ensure_splits, scene_pairs_file
from ..data.convert import hub_table
from ..data.image_sets import ImageSet, indexed_images
from ..data.pairs import hub_file
from ..data.scene_world import COURSE_SCENES
from ..data.vqa import (
    complementary_pairs,
    favourite_answers,
    majority_answer,
    save_vqa,
    skewed,
    vqa_from_hub_table,
    world_vqa_file,
)
from ..metrics.vqa import agreement
from ..models.language_model import chat_prompt, chat_token_ids
from ..models.vlm import VisionLanguageModel, mask_prompt_labels
from ..profiles import Profile
from ..training.loops import train_steps
from ..training.stages import example_batches, question_examples, train_stage


@dataclass(frozen=True)
class VQARecipe:
    """The VQA model's sizes and training on one profile (its parts are built as the captioner's, by
    `captioning.build_captioner`)."""

    batch_size: int
    stage1_steps: int  # connector only (0: none)
    stage1_lr: float
    stage2_steps: int  # connector and LM
    stage2_lr: float
    blind_steps: int  # the blind baseline: the LM alone, on the questions
    blind_lr: float
    keep_other: float  # the skewed training split keeps a non-favourite answer with this chance
    bias_by: str  # the column whose groups have a favourite answer: the question (world) or its type (VQA v2)
    skewed_test_questions: int  # the skewed test split is a sample of this many questions (the balanced one is whole)
    shuffle_factor: int
    layer: int
    connector_layers: int
    max_new_tokens: int
    remember_patch_tokens: bool
    seed: int = 0

    def stage(self, stage: int) -> tuple[int, float]:
        """(steps, peak learning rate) of training stage 1 or 2."""
        return (self.stage1_steps, self.stage1_lr) if stage == 1 else (self.stage2_steps, self.stage2_lr)


RECIPES = {
    # Two minutes of training on two cores. No stage 1: the world LM has read the questions before, and neither
    # 60 caption steps first nor starting from Lab 6's whole captioner changed the balanced accuracy.
    "offline": VQARecipe(batch_size=32, stage1_steps=0, stage1_lr=1e-3, stage2_steps=400, stage2_lr=1e-3,
                         blind_steps=150, blind_lr=1e-3, keep_other=0.5, bias_by="question",
                         skewed_test_questions=1000, shuffle_factor=2,
                         layer=-2, connector_layers=2, max_new_tokens=4, remember_patch_tokens=True),
    # LLaVA-1.5's two stages and learning rates, Lab 6's t4 sizes; 130 ms a step and 6.5 GiB at most on an H100
    # capped at 15 GiB (measurements/t4_budget.md)
    "t4": VQARecipe(batch_size=32, stage1_steps=300, stage1_lr=1e-3, stage2_steps=600, stage2_lr=2e-5,
                    blind_steps=300, blind_lr=2e-5, keep_other=0.5, bias_by="question_type",
                    skewed_test_questions=2000, shuffle_factor=1,
                    layer=-2, connector_layers=2, max_new_tokens=8, remember_patch_tokens=False),
}
HUB_DATA = {"repo_id": "lmms-lab/VQAv2", "split": "validation-0000", "limit": 20_000}  # ten shards, about 1 GB


def vqa_file(profile: Profile) -> Path:
    """The profile's `vqa.parquet`: world questions on Lab 6's scenes (`offline`) or VQA v2 questions (`t4`)."""
    if profile.name == "offline":
        return world_vqa_file(scene_pairs_file(image_size=profile.image_size, **COURSE_SCENES))
    return hub_file(HUB_DATA["repo_id"], "vqa.parquet",
                    lambda: vqa_from_hub_table(hub_table(HUB_DATA["repo_id"], HUB_DATA["split"]), HUB_DATA["limit"]),
                    save_vqa)


@dataclass
class VQASplits:
    """The images, and three question tables whose `image_index` points into them: the skewed training split,
    a test split skewed the same way (what a biased benchmark measures) and the balanced test split."""

    images: ImageSet
    train: pd.DataFrame
    test_skewed: pd.DataFrame
    test_balanced: pd.DataFrame


def vqa_splits(df: pd.DataFrame, recipe: VQARecipe) -> VQASplits:
    """Split a VQA table into `VQASplits`: training questions skewed towards their group's favourite answer, test
    questions skewed towards the same favourites, and the test questions' complementary pairs. Without a `split`
    column, images are split 80/10/10 by `data.ensure_splits`; images are told apart by `image_id` if there is one."""
    if "split" not in df.columns:
        df = ensure_splits(df, recipe.seed)
    images, df = indexed_images(df)
    train, test = df[df["split"] == "train"], df[df["split"] == "test"]
    if train.empty or test.empty:
        raise ValueError(f"the VQA table has {len(train)} training and {len(test)} test questions; it needs both "
                         "(mark some images' questions 'train' and some 'test' in its 'split' column, or drop the "
                         "column to have images split 80/10/10).")
    favourites = favourite_answers(train, recipe.bias_by)
    return VQASplits(images,
                     skewed(train, favourites, recipe.bias_by, recipe.keep_other, recipe.seed),
                     _sample(skewed(test, favourites, recipe.bias_by, recipe.keep_other, recipe.seed + 1),
                             recipe.skewed_test_questions, recipe.seed),
                     complementary_pairs(test))


def _sample(df: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return df if len(df) <= n else df.sample(n=n, random_state=seed).sort_index().reset_index(drop=True)


def train_vqa_model(vlm: VisionLanguageModel, splits: VQASplits, preprocess: Callable, recipe: VQARecipe,
                    profile: Profile) -> dict[int, list[float]]:
    """Train `vlm` on the training questions: stage 1 (connector) if the recipe has one, then stage 2; the losses."""
    batches = example_batches(vlm, splits.images, question_examples(splits.train), preprocess, recipe.batch_size,
                              recipe.seed)
    return {stage: train_stage(vlm, batches, stage, *recipe.stage(stage), profile)
            for stage in (1, 2) if recipe.stage(stage)[0] > 0}


# the blind baseline: the same LM, the question only

def text_batch(tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str], answers: Sequence[str]) -> dict:
    """A training batch for the LM alone: chats right-padded, labels on each answer and its closing eos token."""
    rows, prompt_lengths = zip(*(chat_token_ids(tokenizer, p, a) for p, a in zip(prompts, answers, strict=True)))
    batch = tokenizer.pad({"input_ids": list(rows)}, padding_side="right", return_tensors="pt")
    return {**batch, "labels": mask_prompt_labels(batch["input_ids"], torch.tensor(prompt_lengths),
                                                  batch["attention_mask"])}


def train_blind(lm: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, table: pd.DataFrame, recipe: VQARecipe,
                profile: Profile) -> list[float]:
    """Fine-tune the LM on (question, answer) alone, for the recipe's blind steps; the losses."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    pairs = list(zip(table["question"], table["answer"]))
    batches = DataLoader(pairs, batch_size=min(recipe.batch_size, len(pairs)), shuffle=True, drop_last=True,
                         generator=torch.Generator().manual_seed(recipe.seed),
                         collate_fn=lambda items: text_batch(tokenizer, *zip(*items)))
    lm.requires_grad_(True)
    return train_steps(lm, batches, profile, lr=recipe.blind_lr, steps=recipe.blind_steps, desc="blind")


@torch.no_grad()
def blind_answers(lm: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, questions: Sequence[str],
                  recipe: VQARecipe, batch_size: int = 200) -> list[str]:
    """The LM's greedy answer to each question, with no image."""
    lm.eval()
    out = []
    for start in range(0, len(questions), batch_size):
        prompts = [chat_prompt(tokenizer, q) for q in questions[start:start + batch_size]]
        batch = tokenizer(prompts, padding=True, padding_side="left", add_special_tokens=False,
                          return_tensors="pt").to(lm.device)
        generated = lm.generate(**batch, max_new_tokens=recipe.max_new_tokens, do_sample=False,
                                eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
        out += [t.strip() for t in tokenizer.batch_decode(generated[:, batch["input_ids"].shape[1]:],
                                                          skip_special_tokens=True)]
    return out


# scores

def majority_baseline(train: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """The training split's most common answer, given to every question (a "prior" answer that ignores both the
    image and the question)."""
    return [majority_answer(list(train["answer"]))] * len(table)


def exact_match_accuracy(predictions: Sequence[str], human_answers: Sequence[Sequence[str]]) -> float:
    """VQA accuracy's three-of-ten rule on raw strings, nothing normalised: what the metric would be without
    its normalisation step."""
    return sum(agreement(p, h) for p, h in zip(predictions, human_answers, strict=True)) / len(predictions)
