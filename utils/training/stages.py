"""A VLM's training stages (LLaVA's recipe): batches of (image, prompt, answer) examples, and one stage of training.

Stage 1 trains the connector alone; stage 2 trains the connector and the LM. Each lab's recipe says how many steps
each stage takes and at which learning rate; these functions take the numbers, not the recipe.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pandas as pd
import torch
from torch.utils.data import DataLoader

from ..data.image_sets import ImageSet
from ..models.vlm import VisionLanguageModel
from ..profiles import Profile
from .loops import cycle, train_steps

Example = tuple[int, str, str]  # (image index in its ImageSet, prompt, answer)


def question_examples(table: pd.DataFrame) -> list[Example]:
    """(image index, question, answer) for each row of a question table with an `image_index` column."""
    return list(zip(table["image_index"], table["question"], table["answer"]))


def example_batches(vlm: VisionLanguageModel, data: ImageSet, examples: list[Example], preprocess: Callable,
                    batch_size: int, seed: int = 0) -> DataLoader:
    """Shuffled training batches for `vlm` (a fresh order at each pass); images are decoded as batches are drawn."""
    if not examples:
        raise ValueError("no training examples: the training split holds no image with a caption or question.")

    def collate(items: list[Example]) -> dict[str, torch.Tensor]:
        index, prompts, answers = zip(*items)
        return vlm.collate(data.pixels(preprocess, index), list(prompts), list(answers))

    return DataLoader(examples, batch_size=min(batch_size, len(examples)), shuffle=True, drop_last=True,
                      collate_fn=collate, generator=torch.Generator().manual_seed(seed))


def train_stage(vlm: VisionLanguageModel, batches: Iterable[dict], stage: int, steps: int, lr: float,
                profile: Profile, before_step: Callable[[int], None] | None = None) -> list[float]:
    """Train `vlm` for `steps` steps of `stage` (1: connector; 2: connector and LM) at peak learning rate `lr`; the
    loss at each step.

    `before_step(k)`, if given, is called before the k-th optimizer step of the stage (k = 0, 1, ...), with the
    model in eval mode: how a lab can caption along the way without changing the training.
    """
    vlm.set_stage(stage)
    if before_step is not None:
        batches = _calling_before_each(batches, vlm, before_step)
    return train_steps(vlm, batches, profile, lr=lr, steps=steps, desc=f"stage {stage}")


def _calling_before_each(batches: Iterable[dict], model: torch.nn.Module, call: Callable[[int], None]) -> Iterator[dict]:
    for step, batch in enumerate(cycle(batches)):
        model.eval()
        call(step)
        model.train()
        yield batch
