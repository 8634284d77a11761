"""Zero-shot classification with a CLIP model, and the scores used to probe it.

A class is written as sentences (templates filled with its name); its embedding is the renormalised mean
of the normalised sentence embeddings, and an image goes to the class with the highest cosine.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from ..models.clip import encode_texts
from ..profiles import Profile


def prompt_embeddings(model, tokenizer, classnames: Sequence[str], templates: Sequence[str],
                      profile: Profile) -> torch.Tensor:
    """`(C, T, D)` text embeddings of every template filled with every class name."""
    return sentence_embeddings(model, tokenizer, [[t.format(c) for t in templates] for c in classnames], profile)


def sentence_embeddings(model, tokenizer, sentences: Sequence[Sequence[str]], profile: Profile) -> torch.Tensor:
    """`(C, T, D)` text embeddings of `T` sentences for each of `C` classes (the same `T` for every class)."""
    if len({len(s) for s in sentences}) != 1:
        raise ValueError("every class needs the same number of sentences: position t is one template for all.")
    texts = [t for s in sentences for t in s]
    return encode_texts(model, tokenizer, texts, profile).view(len(sentences), len(sentences[0]), -1)


def class_embeddings(prompt_emb: torch.Tensor) -> torch.Tensor:
    """`(C, T, D)` prompt embeddings to `(C, D)` class embeddings: normalize(mean_t normalize(e_ct))."""
    return F.normalize(F.normalize(prompt_emb, dim=-1).mean(dim=1), dim=-1)


def zero_shot_predict(image_emb: torch.Tensor, class_emb: torch.Tensor) -> torch.Tensor:
    """Index of the class embedding with the highest cosine to each `(N, D)` image embedding."""
    return (image_emb @ class_emb.T).argmax(dim=1)


def confusion_matrix(labels: torch.Tensor, preds: torch.Tensor, n_classes: int) -> torch.Tensor:
    """`(n_classes, n_classes)` counts: row = true class, column = predicted class."""
    return torch.bincount(labels * n_classes + preds, minlength=n_classes * n_classes).view(n_classes, n_classes)


def win_rate(true_scores: torch.Tensor, foil_scores: torch.Tensor) -> float:
    """Fraction of items whose true caption outscores its foil, a tie counting half.

    A model blind to what the foil changed scores both alike, so it sits at exactly 0.5 (chance).
    """
    return ((true_scores > foil_scores).double() + 0.5 * (true_scores == foil_scores).double()).mean().item()


def leave_one_out(templates: Sequence[str], accuracy: Callable[[list[str]], float]) -> list[float]:
    """Accuracy lost when each template (by position) is removed from the ensemble: positive = it helped."""
    full = accuracy(list(templates))
    return [full - accuracy([t for j, t in enumerate(templates) if j != i]) for i in range(len(templates))]


def caption_scores(model, tokenizer, image_emb: torch.Tensor, captions: Sequence[str],
                   profile: Profile) -> torch.Tensor:
    """Cosine of each image with its own caption; each distinct caption is encoded once, so captions
    that are the same string get exactly the same score (a tie is a tie, not rounding noise)."""
    distinct = sorted(set(captions))
    emb = encode_texts(model, tokenizer, distinct, profile)
    row = {c: i for i, c in enumerate(distinct)}
    index = torch.tensor([row[c] for c in captions])
    return (image_emb * emb[index]).sum(dim=-1)


def word_choice_accuracy(model, tokenizer, image_emb: torch.Tensor, captions: Sequence[str], true_words: Sequence[str],
                         candidates: Sequence[str], profile: Profile) -> float:
    """Fraction of images whose caption, with its true word swapped for each candidate in turn, scores highest
    with the true word (a tie counts as a miss): does the model see what that one word names?"""
    texts = []
    for caption, word in zip(captions, true_words):
        if word not in caption.split():
            raise ValueError(f"caption {caption!r} does not contain its true word {word!r}")
        texts += [" ".join(c if w == word else w for w in caption.split()) for c in candidates]
    scores = (encode_texts(model, tokenizer, texts, profile).view(len(captions), len(candidates), -1)
              @ image_emb[:, :, None]).squeeze(-1)  # (images, candidates)
    true = torch.tensor([list(candidates).index(w) for w in true_words])
    others = scores.masked_fill(F.one_hot(true, len(candidates)).bool(), float("-inf")).amax(dim=1)
    return (scores.gather(1, true[:, None]).squeeze(1) > others).float().mean().item()
