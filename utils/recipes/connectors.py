"""Lab 9's three connectors on equal terms: the same frozen vision tower, LM, questions and steps.

- LLaVA: an MLP over the (pixel-shuffled) patch tokens, spliced into the LM's sequence;
- Flamingo: a Perceiver resampler whose latents the text reads through gated cross-attention before every LM
  layer (`models.flamingo`);
- BLIP-2: a Q-Former whose learned queries become a soft prompt in the LM's sequence.

Each is trained in stage 2 (connector and LM, LLaVA's instruction tuning) for the same steps on the questions
whose answer is read off the image (`offline`: world colour and shape questions; `t4`: VQA v2 "what color"
questions), and LLaVA also in stage 1 alone (the LM frozen, as Flamingo and BLIP-2 keep it in their papers).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ..backbones import vlm_parts
from ..data import ensure_splits
from ..data.image_sets import ImageSet, indexed_images
from ..data.vqa import favourite_answers, majority_answer
from ..metrics.vqa import accuracy_by_type, as_submitted
from ..models.connectors import QFormer
from ..models.flamingo import CrossAttentionVLM, GatedCrossAttentionBlock
from ..models.vision_tower import VisionTower
from ..models.vlm import VisionLanguageModel, vlm_answers
from ..profiles import Profile
from ..training.stages import example_batches, question_examples, train_stage

CONNECTORS = {  # name -> (architecture, training stage)
    "LLaVA (MLP), stage 1 only": ("mlp", 1),
    "LLaVA (MLP)": ("mlp", 2),
    "Flamingo (resampler + gated cross-attention)": ("flamingo", 2),
    "BLIP-2 (Q-Former)": ("qformer", 2),
}


@dataclass(frozen=True)
class ConnectorRecipe:
    """What every connector shares on one profile: the training, the parts and each architecture's sizes."""

    batch_size: int
    steps: int
    lr: float
    question_types: tuple[str, ...]  # the questions trained and scored (their `question_type`)
    shuffle_factor: int  # LLaVA's pixel shuffle: (grid / factor)^2 image tokens
    connector_layers: int  # LLaVA's MLP
    latents: int  # the resampler's latents and the Q-Former's queries
    latent_layers: int  # layers of the resampler and of the Q-Former
    cross_attention_every: int  # Flamingo: a gated block before every n-th LM layer
    layer: int
    max_new_tokens: int
    remember_patch_tokens: bool
    seed: int = 0


RECIPES = {
    # 30 to 40 s per connector on two cores. VQA accuracy, seeds 0/1/2: LLaVA 0.40/0.39/0.41, Q-Former
    # 0.36/0.31/0.29, Flamingo 0.24/0.33/0.33 (seed 0: 0.25 with a block before every layer, at 0.30 s a step
    # instead of 0.23), the blind answer 0.18.
    # Batches of 16 for 250 steps: LLaVA 0.39, Flamingo 0.28, Q-Former 0.28
    "offline": ConnectorRecipe(batch_size=32, steps=150, lr=1e-3, question_types=("color", "shape"),
                               shuffle_factor=2, connector_layers=2, latents=8, latent_layers=2,
                               cross_attention_every=2, layer=-2, max_new_tokens=4, remember_patch_tokens=True),
    # one learning rate between LLaVA-1.5's 1e-3 for a new connector and 2e-5 for the LM; 140-180 ms a step and at
    # most 6.5 GiB on an H100 capped at 15 GiB (measurements/t4_budget.md)
    "t4": ConnectorRecipe(batch_size=32, steps=300, lr=1e-4,
                          question_types=("what color is the", "what color are the", "what color", "what color is"),
                          shuffle_factor=1, connector_layers=2, latents=32, latent_layers=2,
                          cross_attention_every=4, layer=-2, max_new_tokens=8, remember_patch_tokens=False),
}


@dataclass
class QuestionSplits:
    """The images, and the training and test questions whose `image_index` points into them."""

    images: ImageSet
    train: pd.DataFrame
    test: pd.DataFrame


def question_splits(df: pd.DataFrame, recipe: ConnectorRecipe) -> QuestionSplits:
    """The recipe's question types of a `vqa.parquet` table, split by image (`data.ensure_splits` where the table
    has no `split`)."""
    df = df[df["question_type"].isin(recipe.question_types)]
    if df.empty:
        raise ValueError(f"the VQA table has no questions of the types {list(recipe.question_types)}; "
                         "Lab 9 trains on those (answers read off the image), so add some.")
    images, df = indexed_images(df if "split" in df.columns else ensure_splits(df, recipe.seed))
    train, test = (df[df["split"] == s].reset_index(drop=True) for s in ("train", "test"))
    if train.empty or test.empty:
        raise ValueError(f"{len(train)} training and {len(test)} test questions of the types "
                         f"{list(recipe.question_types)}; the lab needs both.")
    return QuestionSplits(images, train, test)


def build(architecture: str, profile: Profile, recipe: ConnectorRecipe,
          block: type[nn.Module] = GatedCrossAttentionBlock,
          tower: VisionTower | None = None) -> tuple[VisionLanguageModel, Callable]:
    """A fresh VLM with the `architecture` ("mlp", "flamingo" or "qformer") connector, and CLIP's `preprocess`;
    `block` is the Flamingo model's cross-attention block. Pass another model's `tower` (it is frozen) to share it
    and the patch tokens it remembers."""
    new_tower, lm, tokenizer, preprocess = vlm_parts(profile, recipe.layer, recipe.remember_patch_tokens, recipe.seed)
    return assemble(architecture, tower or new_tower, lm, tokenizer, recipe, block), preprocess


def assemble(architecture: str, tower: VisionTower, lm: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
             recipe: ConnectorRecipe, block: type[nn.Module] = GatedCrossAttentionBlock) -> VisionLanguageModel:
    """A VLM of the given parts with the `architecture` ("mlp", "flamingo" or "qformer") connector, sized by
    `recipe` (`t4_budget` assembles random full-size parts with it)."""
    if architecture == "mlp":
        return VisionLanguageModel(tower, lm, tokenizer, recipe.connector_layers, recipe.shuffle_factor)
    if architecture == "flamingo":
        return CrossAttentionVLM(tower, lm, tokenizer, recipe.latents, recipe.latent_layers,
                                 recipe.cross_attention_every, block=block)
    if architecture == "qformer":
        return VisionLanguageModel(tower, lm, tokenizer, connector=QFormer(
            tower.width, lm.get_input_embeddings().embedding_dim, recipe.latents, recipe.latent_layers))
    raise ValueError(f"unknown connector architecture {architecture!r}; use 'mlp', 'flamingo' or 'qformer'.")


def image_tokens(vlm: VisionLanguageModel) -> int:
    """How many image vectors the LM's text attends to: the spliced tokens, or the Flamingo model's latents."""
    return vlm.media_tokens if isinstance(vlm, CrossAttentionVLM) else vlm.num_image_tokens


def train_and_score(name: str, splits: QuestionSplits, profile: Profile, recipe: ConnectorRecipe,
                    block: type[nn.Module] = GatedCrossAttentionBlock,
                    tower: VisionTower | None = None) -> tuple[VisionLanguageModel, dict]:
    """Build (see `build`) and train the connector `name` (a key of `CONNECTORS`), answer the test questions; the
    model and its row of the comparison: VQA accuracy, image tokens (attended, and in the LM's sequence), the
    connector's parameters, all trainable parameters, seconds per step and the training losses."""
    architecture, stage = CONNECTORS[name]
    vlm, preprocess = build(architecture, profile, recipe, block, tower)
    vlm.set_stage(stage)
    counts = vlm.parameter_counts()
    batches = example_batches(vlm, splits.images, question_examples(splits.train), preprocess, recipe.batch_size,
                              recipe.seed)
    start = time.perf_counter()
    losses = train_stage(vlm, batches, stage, recipe.steps, recipe.lr, profile)
    seconds = (time.perf_counter() - start) / len(losses)
    answers = vlm_answers(vlm, splits.images, splits.test, preprocess, profile, recipe.max_new_tokens)
    return vlm, {**_accuracies(splits.test, answers), "image tokens attended": image_tokens(vlm),
                 "image tokens in the sequence": vlm.num_image_tokens,
                 "connector parameters": counts["connector"]["total"],
                 "trainable parameters": counts["all"]["trainable"], "s per step": seconds, "losses": losses}


def _accuracies(test: pd.DataFrame, answers: list[str]) -> dict[str, float]:
    """Mean VQA accuracy of `answers`, as submitted, over the test questions, overall and per question type."""
    accuracy = accuracy_by_type(test, {"answers": as_submitted(answers)})["answers"]
    return {"VQA accuracy": float(accuracy["all"]),
            **{f"accuracy: {t}": float(a) for t, a in accuracy.drop("all").items()}}


def question_only_baseline(splits: QuestionSplits) -> dict:
    """The best a model can do from the question alone, in exact answers: each test question gets its most common
    training answer (questions never seen in training: the most common answer overall); scored as the others."""
    favourite = favourite_answers(splits.train, "question")
    fallback = majority_answer(list(splits.train["answer"]))
    answers = [favourite.get(q, fallback) for q in splits.test["question"]]
    return {**_accuracies(splits.test, answers), "image tokens attended": 0, "image tokens in the sequence": 0,
            "connector parameters": 0, "trainable parameters": 0}


@torch.no_grad()
def logits_gap_to_frozen_lm(vlm: CrossAttentionVLM, frozen_lm: nn.Module, batch: dict) -> float:
    """Largest |logit difference| between the Flamingo model (given the batch's images) and the LM alone on the
    batch's tokens (a `collate` batch), over the LM's vocabulary."""
    vlm.eval()
    with_image = vlm(batch["pixel_values"], batch["input_ids"], batch["attention_mask"]).logits
    alone = frozen_lm(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return (with_image[..., :alone.shape[-1]] - alone).abs().max().item()


def check_cross_attention_block(block: type[nn.Module], dim: int = 16, heads: int = 4) -> None:
    """Compare a gated cross-attention block class with `models.flamingo.GatedCrossAttentionBlock`: the course's
    weights are loaded into yours (same parameter names), then both read the same text and image tokens with the
    gates closed, half open and one at a time. Raises AssertionError naming the case that differs."""
    reference = GatedCrossAttentionBlock(dim, heads)
    yours = block(dim, heads)
    try:
        yours.load_state_dict(reference.state_dict())
    except RuntimeError as error:
        raise AssertionError(f"your block's parameters do not match the course's (norm, attn, attn_gate, ff, "
                             f"ff_gate with the shapes given in the task): {error}") from None
    for name in ("attn_gate", "ff_gate"):
        if (getattr(block(dim, heads), name) != 0).any():
            raise AssertionError(f"{name} must start at 0, so that the untrained block lets nothing in.")
    x, media = torch.randn(2, 5, dim), torch.randn(2, 3, dim)  # 5 text tokens read 3 image tokens
    cases = {"gates closed (the block is the identity)": (0.0, 0.0), "both gates open": (0.5, -1.0),
             "only the attention gate open": (0.7, 0.0), "only the feed-forward gate open": (0.0, 0.7)}
    for case, gates in cases.items():
        for model in (reference, yours):
            model.eval()
            with torch.no_grad():
                model.attn_gate.fill_(gates[0])
                model.ff_gate.fill_(gates[1])
        with torch.no_grad():
            expected, got = reference(x, media), yours(x, media)
        if got.shape != expected.shape:
            raise AssertionError(f"{case}: your block returns shape {tuple(got.shape)}, expected "
                                 f"{tuple(expected.shape)}")
        if not torch.allclose(got, expected, atol=1e-5):
            raise AssertionError(f"{case}: your block's output differs from the reference's "
                                 f"(largest difference {(got - expected).abs().max().item():.3g})")
        print(f"{case}: same output")
