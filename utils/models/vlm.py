"""A LLaVA-style vision-language model assembled from parts: frozen vision tower, connector, causal LM.

The prompt holds the image placeholder token `num_image_tokens` times, where the image goes (LLaVA-1.5 in
`transformers` does the same); the LM's embeddings of those placeholders are replaced, in order, by the
connector's outputs, and the LM reads the result through `inputs_embeds`. The same code runs with
SmolLM2's tokenizer and the world LM's, through their chat templates; precision comes from the caller's
`profile.autocast()`, devices from where the parts are.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch
from tokenizers import AddedToken
from torch import nn
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from ..data.image_sets import ImageSet
from ..profiles import Profile
from .connectors import MLPConnector, pixel_shuffle, shuffled_grid
from .language_model import chat_token_ids
from .vision_tower import VisionTower

IMAGE_TOKEN = "<image>"
IGNORE_INDEX = -100  # the label that `transformers`' cross-entropy skips


def splice_image_embeddings(text_embeds: torch.Tensor, image_embeds: torch.Tensor, input_ids: torch.Tensor,
                            image_token_id: int) -> torch.Tensor:
    """The LM's input embeddings: `text_embeds` with the image placeholders' rows replaced by the image's.

    text_embeds (B, L, D) embeds input_ids (B, L); image_embeds (B, N, D). Each row of `input_ids` must hold
    `image_token_id` exactly N times: the k-th placeholder gets image_embeds[b, k]; every other position
    keeps its text embedding. The result has text_embeds' dtype; gradients flow to both inputs.
    """
    if image_embeds.shape[0] != text_embeds.shape[0] or image_embeds.shape[-1] != text_embeds.shape[-1]:
        raise ValueError(f"image embeddings {tuple(image_embeds.shape)} do not fit text embeddings "
                         f"{tuple(text_embeds.shape)}: one image per prompt, and the connector's output width "
                         "must be the LM's embedding width.")
    is_image = input_ids == image_token_id
    counts = is_image.sum(dim=1)
    if (counts != image_embeds.shape[1]).any():
        raise ValueError(f"each prompt must hold the image token {image_token_id} once per image embedding "
                         f"({image_embeds.shape[1]} times); the prompts hold it {counts.tolist()} times. Build "
                         "prompts with `VisionLanguageModel.collate`, which inserts the right number.")
    return text_embeds.masked_scatter(is_image.unsqueeze(-1), image_embeds.to(text_embeds.dtype))


def mask_prompt_labels(input_ids: torch.Tensor, prompt_lengths: torch.Tensor,
                       attention_mask: torch.Tensor) -> torch.Tensor:
    """Labels for right-padded (B, L) chats: `input_ids` on answer tokens, IGNORE_INDEX everywhere else.

    Row b's first prompt_lengths[b] tokens (system turn, image placeholders, question, the opened assistant
    turn) and its padding (attention_mask 0) are ignored, so the loss covers the answer and the token that
    closes it. Padding is found by the attention mask, not by the pad id: SmolLM2 pads with its end-of-turn
    token, which the answer must still learn to produce.
    """
    if (attention_mask.diff(dim=1) > 0).any():
        raise ValueError("mask_prompt_labels expects right padding (real tokens first); pad with "
                         "padding_side='right' for training.")
    lengths = attention_mask.sum(dim=1)
    prompt_lengths = torch.as_tensor(prompt_lengths, device=input_ids.device)
    if (prompt_lengths >= lengths).any():
        raise ValueError(f"every chat needs at least one answer token after its prompt; prompt lengths "
                         f"{prompt_lengths.tolist()}, chat lengths {lengths.tolist()}.")
    positions = torch.arange(input_ids.shape[1], device=input_ids.device)
    is_answer = (positions >= prompt_lengths[:, None]) & (attention_mask == 1)
    return input_ids.masked_fill(~is_answer, IGNORE_INDEX)


class VisionLanguageModel(nn.Module):
    """Frozen vision tower -> optional pixel shuffle -> MLP connector -> image embeddings spliced into the LM.

    Adds the `IMAGE_TOKEN` placeholder to `tokenizer` (resizing the LM's embeddings if needed) and starts in
    stage 1 (see `set_stage`). `connector_layers`: 1 (LLaVA-1) or 2 (LLaVA-1.5); `shuffle_factor` f merges
    f x f patches into one token, so the LM reads (grid / f)^2 image tokens. Another `connector` (a module from
    patch tokens (B, P, width) to (B, N, LM width) with an attribute `num_tokens` = N, e.g. a `QFormer`) replaces
    the MLP and the pixel shuffle.
    """

    def __init__(self, vision_tower: VisionTower, lm: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                 connector_layers: int = 2, shuffle_factor: int = 1, connector: nn.Module | None = None):
        super().__init__()
        if tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer has no eos token: the VLM needs one to end answers and generation.")
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.add_tokens([AddedToken(IMAGE_TOKEN, special=True, normalized=False)], special_tokens=True)
        if len(tokenizer) > lm.get_input_embeddings().num_embeddings:  # the new row is always replaced by an image
            lm.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        self.vision_tower, self.lm, self.tokenizer = vision_tower, lm, tokenizer
        self.image_token_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
        if connector is None:
            self.shuffle_factor = shuffle_factor
            self.num_image_tokens = shuffled_grid(vision_tower.grid, shuffle_factor) ** 2
            connector = MLPConnector(vision_tower.width * shuffle_factor ** 2, lm.get_input_embeddings().embedding_dim,
                                     connector_layers)
        elif not hasattr(connector, "num_tokens"):
            raise ValueError(f"a connector passed to VisionLanguageModel needs an attribute `num_tokens` (how many "
                             f"vectors it gives the LM per image); {type(connector).__name__} has none.")
        else:
            self.shuffle_factor, self.num_image_tokens = 1, connector.num_tokens
        self.connector = connector.to(lm.device)
        self.set_stage(1)

    @property
    def device(self) -> torch.device:
        return self.lm.device

    def set_stage(self, stage: int) -> None:
        """Stage 1 (pre-training on captions): train the connector only. Stage 2 (instruction tuning): the
        connector and the LM. The vision tower stays frozen in both."""
        if stage not in (1, 2):
            raise ValueError(f"stage {stage!r}: use 1 (connector only) or 2 (connector and language model).")
        self.lm.requires_grad_(stage == 2)
        self.connector.requires_grad_(True)  # after the LM: a connector may live inside it (`CrossAttentionVLM`)
        self.stage = stage

    def parameter_counts(self) -> dict[str, dict[str, int]]:
        """{part: {"total": n, "trainable": n}} for the vision tower, connector, language model and all."""
        in_connector = {id(p) for p in self.connector.parameters()}
        parts = {"vision tower": list(self.vision_tower.parameters()), "connector": list(self.connector.parameters()),
                 "language model": [p for p in self.lm.parameters() if id(p) not in in_connector],
                 "all": list(self.parameters())}
        return {name: {"total": sum(p.numel() for p in params),
                       "trainable": sum(p.numel() for p in params if p.requires_grad)}
                for name, params in parts.items()}

    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) preprocessed images -> (B, num_image_tokens, LM width) image embeddings."""
        return self.connector(pixel_shuffle(self.vision_tower(pixel_values), self.shuffle_factor))

    def embed(self, pixel_values: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        """The LM's `inputs_embeds`: token embeddings with the image embeddings at the placeholders."""
        text_embeds = self.lm.get_input_embeddings()(input_ids)
        return splice_image_embeddings(text_embeds, self.encode_images(pixel_values), input_ids, self.image_token_id)

    def forward(self, pixel_values: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                labels: torch.Tensor | None = None):
        """The LM's output (`.logits`, and `.loss` over the non-ignored labels when `labels` are given)."""
        return self.lm(inputs_embeds=self.embed(pixel_values, input_ids), attention_mask=attention_mask,
                       labels=labels)

    def _tokenize(self, prompt: str, answer: str | None = None) -> tuple[list[int], int]:
        """Token ids of the chat and the length of its prompt part (`chat_token_ids`); the user turn is the image
        placeholders, a newline and `prompt`."""
        return chat_token_ids(self.tokenizer, IMAGE_TOKEN * self.num_image_tokens + "\n" + prompt, answer)

    def collate(self, images, prompts: list[str], answers: list[str]) -> dict[str, torch.Tensor]:
        """A training batch (CPU tensors) for `forward`: images (B, 3, H, W) or a sequence of (3, H, W) tensors.

        Chats are right-padded; labels cover each answer and its closing eos token only.
        """
        if not len(images) == len(prompts) == len(answers):
            raise ValueError(f"got {len(images)} images, {len(prompts)} prompts and {len(answers)} answers; "
                             "pass one prompt and one answer per image.")
        rows, prompt_lengths = zip(*(self._tokenize(p, a) for p, a in zip(prompts, answers)))
        batch = self.tokenizer.pad({"input_ids": list(rows)}, padding_side="right", return_tensors="pt")
        labels = mask_prompt_labels(batch["input_ids"], torch.tensor(prompt_lengths), batch["attention_mask"])
        return {"pixel_values": torch.stack(list(images)), "input_ids": batch["input_ids"],
                "attention_mask": batch["attention_mask"], "labels": labels}

    @torch.no_grad()
    def log_likelihood(self, pixel_values: torch.Tensor, prompts: list[str], answers: list[str]) -> torch.Tensor:
        """log p(answer, closing eos | image, prompt) per row, summed over the answer's tokens (B,): how well each
        answer fits its image by the LM's own account, a generative score for re-ranking candidates."""
        batch = {name: t.to(self.device) for name, t in self.collate(pixel_values, prompts, answers).items()}
        logits = self(batch["pixel_values"], batch["input_ids"], batch["attention_mask"]).logits[:, :-1].float()
        labels = batch["labels"][:, 1:]
        token = logits.log_softmax(dim=-1).gather(-1, labels.clamp_min(0)[..., None])[..., 0]
        return (token * (labels != IGNORE_INDEX)).sum(dim=1).cpu()

    @torch.no_grad()
    def generate(self, pixel_values: torch.Tensor, prompts: list[str], max_new_tokens: int = 32,
                 num_beams: int = 1) -> list[str]:
        """The LM's answer to each (image, prompt), decoded without special tokens.

        Greedy (num_beams=1) or beam search. Prompts are left-padded so that every row's last token is where
        its answer starts; `lm.generate` derives positions from the attention mask.
        """
        if len(pixel_values) != len(prompts):
            raise ValueError(f"got {len(pixel_values)} images and {len(prompts)} prompts; pass one prompt per image.")
        rows = [self._tokenize(prompt)[0] for prompt in prompts]
        batch = self.tokenizer.pad({"input_ids": rows}, padding_side="left", return_tensors="pt").to(self.device)
        out = self.lm.generate(inputs_embeds=self.embed(pixel_values.to(self.device), batch["input_ids"]),
                               attention_mask=batch["attention_mask"], max_new_tokens=max_new_tokens,
                               num_beams=num_beams, do_sample=False, eos_token_id=self.tokenizer.eos_token_id,
                               pad_token_id=self.tokenizer.pad_token_id)
        return [text.strip() for text in self.tokenizer.batch_decode(out, skip_special_tokens=True)]

    def save(self, folder: str | Path) -> None:
        """Write the LM, tokenizer and connector to `folder`; the frozen vision tower is only fingerprinted."""
        if not isinstance(self.connector, MLPConnector):
            raise TypeError(f"save writes models with the MLP connector; this one has a "
                            f"{type(self.connector).__name__}.")
        folder = Path(folder)
        self.lm.save_pretrained(folder / "lm")
        self.tokenizer.save_pretrained(folder / "tokenizer")
        torch.save(self.connector.state_dict(), folder / "connector.pt")
        config = {"connector_layers": self.connector.layers, "shuffle_factor": self.shuffle_factor,
                  "vision_tower": self.vision_tower.fingerprint()}
        (folder / "vlm.json").write_text(json.dumps(config, indent=1))

    @classmethod
    def load(cls, folder: str | Path, vision_tower: VisionTower, device: str | torch.device = "cpu"
             ) -> VisionLanguageModel:
        """A model saved by `save`, around `vision_tower`, which must be the one it was saved with."""
        folder = Path(folder)
        if not (folder / "vlm.json").exists():
            raise FileNotFoundError(f"{folder} holds no saved VisionLanguageModel (no vlm.json); "
                                    "save one with `model.save(folder)`.")
        config = json.loads((folder / "vlm.json").read_text())
        if vision_tower.fingerprint() != config["vision_tower"]:
            raise ValueError(f"the model in {folder} was saved with a different vision tower; pass the image "
                             "encoder of the same CLIP (model name and weights) that it was trained with.")
        lm = AutoModelForCausalLM.from_pretrained(folder / "lm", dtype=torch.float32).to(device)
        model = cls(vision_tower, lm, AutoTokenizer.from_pretrained(folder / "tokenizer"),
                    config["connector_layers"], config["shuffle_factor"])
        model.connector.load_state_dict(torch.load(folder / "connector.pt", map_location=device, weights_only=True))
        return model


@torch.no_grad()
def vlm_answers(vlm: VisionLanguageModel, images: ImageSet, table: pd.DataFrame, preprocess: Callable,
                profile: Profile, max_new_tokens: int, batch_size: int = 200) -> list[str]:
    """The VLM's greedy answer to each question of `table` (columns `image_index`, `question`), about its image."""
    vlm.eval()
    out = []
    for start in range(0, len(table), batch_size):
        rows = table.iloc[start:start + batch_size]
        with profile.autocast():
            out += vlm.generate(images.pixels(preprocess, rows["image_index"]), list(rows["question"]),
                                max_new_tokens=max_new_tokens)
    return out
