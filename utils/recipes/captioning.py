"""Lab 6's LLaVA-style captioner, and the captions Lab 7 scores: parts, data, recipes, the two training stages,
the nearest-neighbour baseline and the evaluation.

`t4` joins OpenAI's ViT-B-32 to SmolLM2-135M-Instruct and trains on Flickr8k (five human captions per image);
`offline` joins the scene world's CLIP to the world LM and trains on world-v3 scenes, whose scene graphs make
factual precision and recall exact. One code path; `RECIPES` holds the sizes. Stage 1 trains the connector on
(image, `DESCRIBE`, caption); stage 2 trains the connector and the LM on instructions: the captions again and,
where the data has scene graphs, the world's questions with their answers.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from ..backbones import vlm_parts, vlm_parts_id
from ..cache import cached, fingerprint, pairs_fingerprint
from ..data import ensure_splits, hub_pairs_file, load_pairs
from ..data.convert import pairs_from_hub_splits
from ..data.grammar import parse, scene_facts
from ..data.image_sets import CaptionSet, caption_splits
from ..data.scene_graph import Scene
from ..data.scene_world import COURSE_SCENES, questions, scene_pairs_file
from ..metrics.captions import bleu, cider_d
from ..models.language_model import DESCRIBE
from ..models.vlm import VisionLanguageModel
from ..profiles import Profile
from ..training.stages import Example, example_batches, train_stage

CAPTIONER_VERSION = 1  # bump when training or decoding changes: cached checkpoint captions key on it


@dataclass(frozen=True)
class CaptionRecipe:
    """The captioner's sizes and its two stages of training on one profile."""

    batch_size: int
    stage1_steps: int  # connector only, on captions
    stage1_lr: float
    stage2_steps: int  # connector and LM, on instructions
    stage2_lr: float
    questions_per_image: int | None  # stage 2's questions about each scene (world data); None: every one
    shuffle_factor: int  # pixel shuffle: the LM reads (grid / factor)^2 image tokens
    layer: int  # the vision tower's block whose patch tokens the connector reads (-1 last, -2 penultimate)
    connector_layers: int
    max_new_tokens: int
    num_beams: int  # beam search's width (greedy is 1)
    test_images: int  # held-out images captioned and scored
    remember_patch_tokens: bool  # compute each image's patch tokens once (worth it where the tower is a large share)
    seed: int = 0

    def stage(self, stage: int) -> tuple[int, float]:
        """(steps, peak learning rate) of training stage 1 or 2."""
        return (self.stage1_steps, self.stage1_lr) if stage == 1 else (self.stage2_steps, self.stage2_lr)


RECIPES = {
    # LLaVA-1.5's parts (penultimate block, 2-layer MLP) and nanoVLM's pixel shuffle (16 image tokens); about
    # 150 s of training on two cores. On 200 test images, beam CIDEr-D 0.93-0.97 and factual precision 0.60-0.62
    # over seeds 0-2 (nearest neighbour: 0.86, 0.54). Beam CIDEr-D of what did worse: stage-2 learning rate
    # 5e-4 or 2e-3 (0.61, 0.37), 500 stage-2 steps (0.61), every question of every scene in stage 2 (0.84),
    # 200 stage-1 steps at 3e-3 (0.74), batches grouped by length (0.45)
    "offline": CaptionRecipe(batch_size=16, stage1_steps=60, stage1_lr=1e-3, stage2_steps=700, stage2_lr=1e-3,
                             questions_per_image=2, shuffle_factor=2, layer=-2, connector_layers=2, max_new_tokens=64,
                             num_beams=3, test_images=200, remember_patch_tokens=True),
    # LLaVA-1.5's learning rates (projector 1e-3, then everything 2e-5); 120 and 160 ms a step, 8.4 GiB at most,
    # on an H100 capped at 15 GiB (measurements/t4_budget.md)
    "t4": CaptionRecipe(batch_size=32, stage1_steps=600, stage1_lr=1e-3, stage2_steps=600, stage2_lr=2e-5,
                        questions_per_image=None, shuffle_factor=1, layer=-2, connector_layers=2, max_new_tokens=32,
                        num_beams=3, test_images=500, remember_patch_tokens=False),
}
HUB_DATA = {"repo_id": "jxie/flickr8k", "image_column": "image",
            "caption_columns": [f"caption_{i}" for i in range(5)]}  # 6,000 / 1,000 / 1,000 images


def caption_pairs_file(profile: Profile) -> Path:
    """The profile's captioning `pairs.parquet`: world-v3 scenes (`offline`) or Flickr8k converted once (`t4`)."""
    if profile.name == "offline":
        return scene_pairs_file(image_size=profile.image_size, **COURSE_SCENES)
    return hub_pairs_file(HUB_DATA["repo_id"], lambda: pairs_from_hub_splits(**HUB_DATA))


# the parts

def build_captioner(profile: Profile, recipe: CaptionRecipe) -> tuple[VisionLanguageModel, Callable]:
    """A fresh captioner (seeded connector) from the profile's CLIP image encoder and LM, and CLIP's `preprocess`."""
    tower, lm, tokenizer, preprocess = vlm_parts(profile, recipe.layer, recipe.remember_patch_tokens, recipe.seed)
    return VisionLanguageModel(tower, lm, tokenizer, recipe.connector_layers, recipe.shuffle_factor), preprocess


def parameter_table(vlm: VisionLanguageModel) -> pd.DataFrame:
    """Parameters of each part, and how many each stage trains."""
    rows = {}
    for stage in (1, 2):
        vlm.set_stage(stage)
        for part, counts in vlm.parameter_counts().items():
            rows.setdefault(part, {"parameters": counts["total"]})[f"trained in stage {stage}"] = counts["trainable"]
    vlm.set_stage(1)
    return pd.DataFrame(rows).T


# the data

def caption_examples(data: CaptionSet) -> list[Example]:
    """Stage 1's data: (image, `DESCRIBE`, caption) for every caption of every image."""
    return [(i, DESCRIBE, caption) for i, captions in enumerate(data.captions) for caption in captions]


def instruction_examples(data: CaptionSet, questions_per_image: int | None = None, seed: int = 0) -> list[Example]:
    """Stage 2's data: the captions again, plus `questions_per_image` (None: every one) of the questions
    `scene_world.questions` asks about each scene, with their answers, where the data has scene graphs (without
    them, the captions alone)."""
    examples = caption_examples(data)
    if data.scenes is not None:
        rng = random.Random(seed)
        for i, scene in enumerate(data.scenes):
            asked = questions(scene, rng)
            if questions_per_image is not None:
                asked = rng.sample(asked, min(questions_per_image, len(asked)))
            examples += [(i, question, answer) for question, answer in asked]
    return examples


# captioning and the baseline

def generate_captions(vlm: VisionLanguageModel, data: CaptionSet, preprocess: Callable, profile: Profile,
                      recipe: CaptionRecipe, num_beams: int = 1, prompt: str = DESCRIBE,
                      batch_size: int = 100) -> list[str]:
    """The captioner's answer to `prompt` for every image of `data`: greedy (num_beams=1) or beam search."""
    vlm.eval()
    out = []
    for start in range(0, len(data), batch_size):
        index = range(start, min(start + batch_size, len(data)))
        with profile.autocast():
            out += vlm.generate(data.pixels(preprocess, index), [prompt] * len(index),
                                max_new_tokens=recipe.max_new_tokens, num_beams=num_beams)
    return out


@torch.no_grad()
def image_embeddings(vlm: VisionLanguageModel, data: CaptionSet, preprocess: Callable, profile: Profile,
                     batch_size: int = 256) -> torch.Tensor:
    """L2-normalised CLIP image embeddings (N, d) from the captioner's own (frozen) image encoder."""
    out = []
    for start in range(0, len(data), batch_size):
        pixels = data.pixels(preprocess, range(start, min(start + batch_size, len(data)))).to(vlm.device)
        with profile.autocast():
            pooled, _ = vlm.vision_tower.visual(pixels)  # VisionTower asks for (pooled embedding, patch tokens)
        out.append(F.normalize(pooled.float(), dim=-1).cpu())
    return torch.cat(out)


def nearest_neighbour_captions(query_embeds: torch.Tensor, train_embeds: torch.Tensor,
                               train_captions: list[str]) -> list[str]:
    """For each query image, the caption of the most similar training image (cosine of unit embeddings; the
    first such image on a tie)."""
    return [train_captions[i] for i in (query_embeds @ train_embeds.T).argmax(dim=1).tolist()]


# evaluation

def pooled_facts(captions: Sequence[str], scenes: Sequence[Scene]) -> tuple[float, float]:
    """Factual precision and recall over a corpus, facts pooled: true stated facts / stated facts, and true
    stated facts / facts of the scenes. A caption that states nothing adds nothing to precision's count."""
    stated = true = correct = 0
    for caption, scene in zip(captions, scenes, strict=True):
        facts, truth = parse(caption), scene_facts(scene)
        stated, true, correct = stated + len(facts), true + len(truth), correct + len(facts & truth)
    return (correct / stated if stated else float("nan")), correct / true


def caption_metrics(candidates: Sequence[str], references: Sequence[Sequence[str]],
                    scenes: Sequence[Scene] | None) -> dict[str, float]:
    """BLEU-4, CIDEr-D and pooled factual precision and recall of one caption per image; the factual metrics are
    NaN (not available) without scene graphs."""
    cands, refs = dict(enumerate(candidates)), dict(enumerate(references))
    precision, recall = pooled_facts(candidates, scenes) if scenes is not None else (float("nan"),) * 2
    return {"BLEU-4": bleu(cands, refs)[4].corpus, "CIDEr-D": cider_d(cands, refs).corpus,
            "factual precision": precision, "factual recall": recall}


# Lab 7's captions

def checkpoint_steps(recipe: CaptionRecipe) -> tuple[int, ...]:
    """Default checkpoints, in optimizer steps over both stages: untrained, early, mid stage 1, end of each stage."""
    s1 = recipe.stage1_steps
    return 0, max(1, s1 // 10), max(2, s1 // 3), s1, s1 + recipe.stage2_steps


def _train_as_lab6(profile: Profile, vlm: VisionLanguageModel, preprocess: Callable,
                   before_step: Callable[[int], None] | None = None) -> None:
    """Train a fresh captioner (`build_captioner`) as Lab 6 does: its recipe, on the profile's course data;
    `before_step(k)` is called before the k-th optimizer step, counted over both stages (see
    `utils.training.stages.train_stage`)."""
    recipe = RECIPES[profile.name]
    train = caption_splits(ensure_splits(load_pairs(caption_pairs_file(profile)), seed=recipe.seed))["train"]
    stage2 = instruction_examples(train, recipe.questions_per_image, recipe.seed)
    for stage, offset, examples in ((1, 0, caption_examples(train)), (2, recipe.stage1_steps, stage2)):
        batches = example_batches(vlm, train, examples, preprocess, recipe.batch_size, recipe.seed)
        call = None if before_step is None else lambda k, offset=offset: before_step(offset + k)
        train_stage(vlm, batches, stage, *recipe.stage(stage), profile, call)
    vlm.eval()


def _captioner_inputs(profile: Profile) -> dict:
    """What Lab 6's trained captioner is built from: the parts, the recipe, the data."""
    return {"version": CAPTIONER_VERSION, "profile": profile.name, "precision": profile.precision,
            **vlm_parts_id(profile), "recipe": dataclasses.asdict(RECIPES[profile.name]),
            "data": pairs_fingerprint(load_pairs(caption_pairs_file(profile)))}


def _cache_captioner(profile: Profile, trained: VisionLanguageModel | None = None) -> Path:
    """The cached folder of Lab 6's trained captioner: `trained` saved there if it is missing, or a fresh one trained
    as Lab 6 does when `trained` is None."""
    def build(folder: Path) -> None:
        vlm = trained
        if vlm is None:
            print(f"training the captioner as Lab 6 does (cached at {folder.parent.parent})")
            vlm, preprocess = build_captioner(profile, RECIPES[profile.name])
            _train_as_lab6(profile, vlm, preprocess)
        vlm.eval().save(folder)

    return cached("captioner", "model", _captioner_inputs(profile), build, seed=RECIPES[profile.name].seed)


def trained_captioner(profile: Profile) -> tuple[VisionLanguageModel, Callable]:
    """Lab 6's captioner after all of its training (its recipe, on the profile's course data), in eval mode, and
    CLIP's `preprocess`: loaded from the cache, trained and cached first if missing (Lab 7's training caches it
    too). Always loaded onto fresh parts, so that it is the same model whether it was just trained or not."""
    folder = _cache_captioner(profile)
    vlm, preprocess = build_captioner(profile, RECIPES[profile.name])
    return VisionLanguageModel.load(folder, vlm.vision_tower, profile.device).eval(), preprocess


def captions_at_checkpoints(profile: Profile, images: Sequence[bytes], steps: Sequence[int] | None = None,
                            num_beams: int = 1) -> dict[int, list[str]]:
    """{step: the captioner's caption of each image} after `steps` optimizer steps (counted over both stages).

    Trains the profile's captioner once as Lab 6 does (and caches it for `trained_captioner`), captioning
    `images` (encoded bytes, as the `image` column of pairs.parquet holds them) at every checkpoint along the
    way. Cached, keyed by the parts, the recipe, the data, the images, the steps and the decoding.
    """
    recipe = RECIPES[profile.name]
    total = recipe.stage1_steps + recipe.stage2_steps
    steps = sorted(set(checkpoint_steps(recipe) if steps is None else steps))
    if not images or not steps or steps[0] < 0 or steps[-1] > total:
        raise ValueError(f"pass at least one image and steps between 0 and {total} (stage 1: 1 to "
                         f"{recipe.stage1_steps}, stage 2: after that); got {len(images)} images and steps {steps}.")

    def build(path: Path) -> None:
        vlm, preprocess = build_captioner(profile, recipe)
        probe = CaptionSet(list(images), [[]] * len(images), None)
        captions: dict[int, list[str]] = {}

        def caption_at(k: int) -> None:
            if k in steps:
                captions[k] = generate_captions(vlm, probe, preprocess, profile, recipe, num_beams)

        print(f"training the captioner as Lab 6 does, captioning {len(images)} images at steps {steps}")
        _train_as_lab6(profile, vlm, preprocess, caption_at)
        if total in steps:
            captions[total] = generate_captions(vlm, probe, preprocess, profile, recipe, num_beams)
        path.write_text(json.dumps(captions))
        _cache_captioner(profile, vlm)

    inputs = {**_captioner_inputs(profile), "steps": steps,
              "images": fingerprint([hashlib.sha256(b).hexdigest() for b in images]), "num_beams": num_beams}
    path = cached("checkpoint_captions", "captions.json", inputs, build, seed=recipe.seed)
    return {int(k): v for k, v in json.loads(path.read_text()).items()}
