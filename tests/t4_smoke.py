"""Stand-ins that let a lab's `t4` code path run on a CPU with no network (used by test_t4_smoke.py).

`install(folder)` runs in the notebook's kernel right after its parameters cell and replaces only what a
Colab machine has and this one lacks:

- the Hugging Face Hub: `huggingface_hub.snapshot_download` answers from tiny parquet files written to
  `folder`, with the repo ids, file names, columns and types of the data sets the labs download;
- OpenAI's weights: an open_clip pretrained *tag* builds the same architecture and preprocessing with
  random weights (a checkpoint *path* still loads); `t4`'s CLIP keeps every width, its image size, patch
  size and context length, but two transformer blocks per tower instead of twelve (random weights learn
  nothing either way, twelve blocks made the smoke test minutes longer, and two still have a penultimate
  block for the captioner to read);
- SmolLM2-135M-Instruct: a random tiny Llama with the world LM's tokenizer (same special tokens and chat
  template as SmolLM2's), saved to `folder` and loaded by `load_language_model` from there;
- OWL-ViT (Lab 12): a random tiny `OwlViTForObjectDetection` with CLIP's tokenizer, built in `folder` when
  `grounding.load_owlvit` is first called;
- the GPU and the sizes: `t4` runs on the CPU with tiny sizes, in fp32 because half precision on a CPU is
  far too slow for ViT-B-32 (test_t4_smoke.py runs the fp16 path on a small model instead).

Each stand-in prints one line starting with `STAND_IN` the first time it is used, so the test can tell
which ones a lab reached.
"""
from __future__ import annotations

import dataclasses
import io
import random
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw

STAND_IN = "t4 smoke stand-in:"
# Big enough that every lab finds what it looks for (single- and two-object scenes, a 10-image test
# split); small enough that ViT-B-32 on two CPU cores gets through all labs in minutes.
TINY_PROFILE = {"device": "cpu", "precision": "fp32", "n_scenes": 60, "batch_size": 8, "epochs": 1}
TINY_RECIPE = {"epochs": 1, "batch_size": 8}
TINY_CAPTION_RECIPE = {"batch_size": 4, "max_new_tokens": 8, "stage1_steps": 2, "stage2_steps": 2}
TINY_VQA_RECIPE = {"batch_size": 4, "stage1_steps": 2, "max_new_tokens": 4, "skewed_test_questions": 20}
TINY_LM = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
           "num_key_value_heads": 1, "max_position_embeddings": 512, "tie_word_embeddings": True}
N_FLICKR = {"train": 16, "validation": 2, "test": 4}  # images per split (the real set: 6,000, 1,000 and 1,000)
N_POKEMON = 20  # rows of the Pokémon caption set (the real one has about 900): 16 train images
N_VQA_IMAGES = 20  # per shard, two shards; three questions each (the real validation split: 40,504 images)
N_COCO = 12  # images with their objects (the real validation split: 5,000)
N_CIFAR = {"test": 6, "train": 1}  # images per class and split (the real set: 1,000 and 5,000)
CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

_reported: set[str] = set()


def _report(message: str) -> None:
    if message not in _reported:
        _reported.add(message)
        print(f"{STAND_IN} {message}")


def _picture(rng: random.Random, size: tuple[int, int], mode: str) -> bytes:
    """A PNG of a random ellipse on a random background (real sets mix sizes and RGB/RGBA)."""
    colour = lambda: tuple(rng.randrange(256) for _ in mode)  # noqa: E731
    image = Image.new(mode, size, colour())
    w, h = size
    x, y = rng.randrange(w // 2), rng.randrange(h // 2)
    ImageDraw.Draw(image).ellipse((x, y, x + w // 3, y + h // 3), fill=colour())
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _hub_image(rng: random.Random, name: str, size: tuple[int, int], mode: str = "RGB") -> dict:
    """A cell of a Hub `Image` column as parquet stores it: a struct of encoded bytes and a file name."""
    return {"bytes": _picture(rng, size, mode), "path": name}


def pokemon_captions(n: int = N_POKEMON, seed: int = 0) -> pd.DataFrame:
    """Shaped like `wanghaofan/pokemon-wiki-captions`: image, name_en, name_zh, text_en, text_zh."""
    rng = random.Random(seed)
    kinds = ["grass", "fire", "water", "electric", "psychic", "rock"]
    rows = []
    for i in range(n):
        kind, side = rng.choice(kinds), rng.choice([96, 120, 160])
        rows.append({"image": _hub_image(rng, f"{i}.png", (side, side), rng.choice(["RGB", "RGBA"])),
                     "name_en": f"mon{i}", "name_zh": f"宝可梦{i}",
                     "text_en": f"mon{i} is a {kind} type pokemon with {rng.randint(2, 6)} legs",
                     "text_zh": f"宝可梦{i}是{kind}属性"})
    return pd.DataFrame(rows)


def cifar10(per_class: int, seed: int = 0) -> pd.DataFrame:
    """Shaped like a split of `uoft-cs/cifar10`: `img` (32x32 PNG struct) and an int64 `label`."""
    rng = random.Random(seed)
    labels = [c for c in range(len(CIFAR10)) for _ in range(per_class)]
    return pd.DataFrame({"img": [_hub_image(rng, None, (32, 32)) for _ in labels],
                         "label": pd.Series(labels, dtype="int64")})


def flickr8k(n: int, seed: int = 0) -> pd.DataFrame:
    """Shaped like a split of `jxie/flickr8k`: a JPEG `image` struct and five captions, `caption_0`..`caption_4`."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        buf = io.BytesIO()
        Image.open(io.BytesIO(_picture(rng, (rng.choice([500, 333]), 375), "RGB"))).save(buf, format="JPEG")
        things = rng.sample(["a dog", "two children", "a man", "a woman", "a bike"], 2)
        rows.append({"image": {"bytes": buf.getvalue(), "path": f"{i}.jpg"},
                     **{f"caption_{k}": f"{things[0]} {verb} near {things[1]} ."
                        for k, verb in enumerate(["runs", "plays", "stands", "sits", "waits"])}})
    return pd.DataFrame(rows)


def vqav2(n_images: int, first_id: int = 0, seed: int = 0) -> pd.DataFrame:
    """Shaped like `lmms-lab/VQAv2`'s validation shards: an `image` struct, the question, its type, ten answer dicts
    and the most common answer; three questions per image, each asked of every image (so the balanced split has
    pairs)."""
    rng = random.Random(seed)
    asked = [("is there a dog?", "is there a", "yes/no", ["yes", "no"]),
             ("how many people are there?", "how many", "number", ["1", "2", "3"]),
             ("what color is the car?", "what color is the", "other", ["red", "blue", "white"])]
    rows = []
    for image_id in range(first_id, first_id + n_images):
        image = _hub_image(rng, f"COCO_val2014_{image_id:012d}.jpg", (rng.choice([640, 480]), 480))
        for k, (question, question_type, answer_type, choices) in enumerate(asked):
            answer = rng.choice(choices)
            answers = [answer if rng.random() < 0.8 else rng.choice(choices) for _ in range(10)]
            rows.append({"question_type": question_type, "multiple_choice_answer": answer,
                         "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": i + 1}
                                     for i, a in enumerate(answers)],
                         "image_id": image_id, "answer_type": answer_type, "question_id": image_id * 10 + k,
                         "question": question.capitalize(), "image": image})
    return pd.DataFrame(rows)


def _coco_box(rng: random.Random, width: int, height: int) -> list[float]:
    """A box as `detection-datasets/coco` stores it: [x_min, y_min, x_max, y_max] in pixels."""
    w, h = rng.uniform(0.1, 0.6) * width, rng.uniform(0.1, 0.6) * height
    x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
    return [x, y, x + w, y + h]


def coco_detection(n: int, seed: int = 0) -> pd.DataFrame:
    """Shaped like `detection-datasets/coco`'s val split: image_id, an `image` struct, width, height, and
    `objects` with a COCO category id (0-79) per box."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        boxes = [rng.randrange(8) for _ in range(rng.randint(1, 4))]  # a few common categories, repeated
        rows.append({"image_id": i, "image": _hub_image(rng, f"{i:012d}.jpg", (640, 480)), "width": 640,
                     "height": 480, "objects": {"bbox_id": list(range(len(boxes))), "category": boxes,
                                                "bbox": [_coco_box(rng, 640, 480) for _ in boxes],
                                                "area": [100.0] * len(boxes)}})
    return pd.DataFrame(rows)


# repo id -> {file path in the repo: table}, with the real repositories' layouts
HUB_DATASETS = {
    "wanghaofan/pokemon-wiki-captions": {"data/train-00000-of-00001.parquet": pokemon_captions},
    "uoft-cs/cifar10": {f"plain_text/{split}-00000-of-00001.parquet": (lambda n=n: cifar10(n))
                        for split, n in N_CIFAR.items()},
    "jxie/flickr8k": {f"data/{split}-00000-of-00001.parquet": (lambda n=n, s=seed: flickr8k(n, s))
                      for seed, (split, n) in enumerate(N_FLICKR.items())},
    "lmms-lab/VQAv2": {f"data/validation-0000{k}-of-00068.parquet": (lambda k=k: vqav2(N_VQA_IMAGES, first_id=1000 * k, seed=k))
                       for k in range(2)},
    "detection-datasets/coco": {"data/val-00000-of-00001.parquet": lambda: coco_detection(N_COCO)},
}


def fake_snapshot_download(folder: Path):
    """A `snapshot_download` that writes the fixture's files matching the patterns into `folder`."""
    from huggingface_hub.utils import filter_repo_objects

    def snapshot_download(repo_id: str, *, repo_type: str | None = None, allow_patterns=None,
                          ignore_patterns=None, **_) -> str:
        if repo_type != "dataset" or repo_id not in HUB_DATASETS:
            raise LookupError(f"the t4 smoke test has no fixture for the Hub {repo_type or 'model'} "
                              f"{repo_id!r}; add one to tests/t4_smoke.py:HUB_DATASETS")
        _report(f"Hub dataset {repo_id} answered by a local fixture")
        root = folder / repo_id.replace("/", "--")
        files = HUB_DATASETS[repo_id]
        for name in filter_repo_objects(files, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns):
            path = root / name
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                files[name]().to_parquet(path)
        root.mkdir(parents=True, exist_ok=True)
        return str(root)

    return snapshot_download


def random_weights_for_tags() -> None:
    """open_clip: a pretrained tag (e.g. 'openai') gives its preprocessing, but random weights."""
    import open_clip.factory

    def download_pretrained(cfg: dict, *_, **__) -> str:
        _report(f"open_clip weights {cfg.get('hf_hub') or cfg.get('url')} replaced by random ones")
        return ""  # no checkpoint: open_clip keeps the random initialisation

    def download_pretrained_from_hf(model_id: str, *_, **__):
        raise LookupError(f"the t4 smoke test cannot fetch {model_id!r} from the Hub")

    open_clip.factory.download_pretrained = download_pretrained
    open_clip.factory.download_pretrained_from_hf = download_pretrained_from_hf


def shallow_t4_clip() -> None:
    """`t4`'s open_clip architecture with two transformer blocks per tower (every other size kept)."""
    import open_clip.factory

    from utils import profiles

    name, full_config = profiles.PROFILES["t4"].clip_model, open_clip.factory.get_model_config

    def get_model_config(model_name: str) -> dict | None:
        config = full_config(model_name)
        if model_name == name:
            _report(f"open_clip {name} with two blocks per tower")
            config["vision_cfg"]["layers"] = config["text_cfg"]["layers"] = 2
        return config

    open_clip.factory.get_model_config = get_model_config


def tiny_t4() -> None:
    """The `t4` profile and its fine-tuning and captioning recipes on the CPU, with tiny sizes."""
    from utils import profiles
    from utils.recipes import captioning, finetune, hallucination, vqa

    profiles.PROFILES["t4"] = dataclasses.replace(profiles.PROFILES["t4"], **TINY_PROFILE)
    finetune.RECIPES["t4"] = dataclasses.replace(finetune.RECIPES["t4"], **TINY_RECIPE)
    captioning.RECIPES["t4"] = dataclasses.replace(captioning.RECIPES["t4"], **TINY_CAPTION_RECIPE)
    vqa.RECIPES["t4"] = dataclasses.replace(vqa.RECIPES["t4"], **TINY_VQA_RECIPE)
    hallucination.RECIPES["t4"] = dataclasses.replace(hallucination.RECIPES["t4"], max_new_tokens=4)


def tiny_language_model(folder: Path) -> None:
    """`t4`'s LM (SmolLM2) as a random tiny Llama saved to `folder`, loaded through `load_language_model`."""
    from transformers import AutoModelForCausalLM

    from utils import backbones, profiles
    from utils.offline.world_lm import tiny_llama, world_lines
    from utils.offline.world_tokenizer import build_tokenizer

    name = profiles.PROFILES["t4"].lm
    if not (folder / "config.json").exists():
        tokenizer = build_tokenizer(world_lines(50, 0), vocab_size=400)
        tiny_llama(tokenizer, TINY_LM).save_pretrained(folder)
        tokenizer.save_pretrained(folder)

    class ReportingAutoModel:  # the same from_pretrained, saying when it loads the stand-in
        @staticmethod
        def from_pretrained(source, *args, **kwargs):
            if str(source) == str(folder):
                _report(f"language model {name} replaced by a random tiny Llama")
            return AutoModelForCausalLM.from_pretrained(source, *args, **kwargs)

    backbones.AutoModelForCausalLM = ReportingAutoModel
    profiles.PROFILES["t4"] = dataclasses.replace(profiles.PROFILES["t4"], lm=str(folder))


def tiny_owlvit(folder: Path) -> None:
    """OWL-ViT (`google/owlvit-base-patch32`) as a random tiny OwlViT with CLIP's own tokenizer (open_clip's BPE
    vocabulary, so no download), built in `folder` the first time `grounding.load_owlvit` is called."""
    from utils.recipes import grounding

    name, load = grounding.OWLVIT, grounding.load_owlvit

    def build() -> None:
        import json

        import open_clip
        from transformers import (
            CLIPTokenizer,
            OwlViTConfig,
            OwlViTForObjectDetection,
            OwlViTImageProcessor,
            OwlViTProcessor,
        )

        folder.mkdir(parents=True, exist_ok=True)
        bpe = open_clip.tokenizer.SimpleTokenizer()
        (folder / "vocab.json").write_text(json.dumps(bpe.encoder))
        merges = sorted(bpe.bpe_ranks, key=bpe.bpe_ranks.get)
        (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
        tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=16,
                                  pad_token="!", bos_token="<start_of_text>", eos_token="<end_of_text>",
                                  unk_token="<end_of_text>")
        images = OwlViTImageProcessor(size={"height": 64, "width": 64}, crop_size={"height": 64, "width": 64})
        OwlViTProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
        tiny = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
        config = OwlViTConfig(text_config={**tiny, "max_position_embeddings": 16},
                              vision_config={**tiny, "image_size": 64, "patch_size": 32}, projection_dim=32)
        OwlViTForObjectDetection(config).save_pretrained(folder)

    def load_owlvit(source: str | None = None, device: str = "cpu"):
        if (source or grounding.OWLVIT) == name:
            if not (folder / "config.json").exists():
                build()
            _report(f"OWL-ViT {name} replaced by a random tiny OwlViT")
            source = str(folder)
        return load(source, device)

    grounding.load_owlvit = load_owlvit


def install(folder: str) -> None:
    """Install every stand-in; `folder` receives the Hub fixtures."""
    import huggingface_hub

    huggingface_hub.snapshot_download = fake_snapshot_download(Path(folder))
    random_weights_for_tags()
    shallow_t4_clip()
    tiny_t4()
    tiny_language_model(Path(folder) / "SmolLM2-135M-Instruct")
    tiny_owlvit(Path(folder) / "owlvit-base-patch32")
