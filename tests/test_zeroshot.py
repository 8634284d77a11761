import math

import matplotlib
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from utils.models.clip import create_clip, encode_texts
from utils.profiles import PROFILES
from utils.recipes import zeroshot

matplotlib.use("Agg")


def test_class_embedding_normalises_each_prompt_then_the_mean():
    prompts = torch.tensor([[[3.0, 0.0], [0.0, 4.0]]])  # one class, two prompts of lengths 3 and 4
    expected = torch.tensor([[1 / math.sqrt(2), 1 / math.sqrt(2)]])  # not (0.6, 0.8): inner norm first
    assert torch.allclose(zeroshot.class_embeddings(prompts), expected)


def test_one_template_is_the_single_prompt_classifier():
    prompts = torch.randn(5, 1, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(zeroshot.class_embeddings(prompts), F.normalize(prompts[:, 0], dim=-1))


def test_zero_shot_predict_takes_the_closest_class():
    classes = torch.eye(3)
    images = F.normalize(torch.tensor([[0.1, 0.9, 0.0], [0.0, 0.2, 0.8], [1.0, 0.0, 0.1]]), dim=-1)
    assert zeroshot.zero_shot_predict(images, classes).tolist() == [1, 2, 0]


@pytest.mark.parametrize("labels,preds,n", [([0, 0, 1, 2], [1, 1, 1, 0], 3), ([0, 1, 1, 0], [0, 0, 3, 0], 4),
                                            ([2], [2], 3)])
def test_confusion_matrix_matches_sklearn(labels, preds, n):
    got = zeroshot.confusion_matrix(torch.tensor(labels), torch.tensor(preds), n)
    assert got.tolist() == sk_confusion_matrix(labels, preds, labels=list(range(n))).tolist()


def test_confusion_matrix_of_nothing_is_zeros():
    empty = torch.tensor([], dtype=torch.long)
    assert zeroshot.confusion_matrix(empty, empty, 2).tolist() == [[0, 0], [0, 0]]


def test_win_rate_counts_a_tie_as_half():
    assert zeroshot.win_rate(torch.tensor([1.0, 0.5, 0.2]), torch.tensor([0.5, 0.5, 0.3])) == pytest.approx(0.5)
    scores = torch.randn(7)
    assert zeroshot.win_rate(scores, scores.clone()) == 0.5  # a bag of words: chance, not 0
    assert zeroshot.win_rate(torch.tensor([2.0]), torch.tensor([1.0])) == 1.0


def test_leave_one_out_removes_by_position():
    distinct = lambda ts: len(set(ts)) / 10  # noqa: E731
    assert zeroshot.leave_one_out(["a", "b", "a"], distinct) == pytest.approx([0.0, 0.1, 0.0])
    weight = {"a": 0.9, "b": 0.3}
    mean = lambda ts: sum(weight[t] for t in ts) / len(ts)  # noqa: E731
    assert zeroshot.leave_one_out(["a", "b"], mean) == pytest.approx([0.6 - 0.3, 0.6 - 0.9])


@pytest.fixture(scope="module")
def micro():
    torch.manual_seed(0)
    model, _, tokenizer = create_clip("WorldCLIP-Micro")
    return model, tokenizer


def test_prompt_embeddings_fill_every_template_with_every_class(micro):
    model, tokenizer = micro
    P = PROFILES["offline"]
    got = zeroshot.prompt_embeddings(model, tokenizer, ["red", "blue"], ["a {}.", "a photo of a {}."], P)
    assert got.shape[:2] == (2, 2)
    assert torch.allclose(got[1, 1], encode_texts(model, tokenizer, ["a photo of a blue."], P)[0], atol=1e-6)


def test_sentence_embeddings_keep_each_class_s_own_sentences(micro):
    model, tokenizer = micro
    P = PROFILES["offline"]
    got = zeroshot.sentence_embeddings(model, tokenizer, [["a red circle", "a red square"],
                                                          ["a blue circle", "a blue square"]], P)
    assert got.shape[:2] == (2, 2)
    assert torch.allclose(got[1, 0], encode_texts(model, tokenizer, ["a blue circle"], P)[0], atol=1e-6)
    with pytest.raises(ValueError, match="same number of sentences"):
        zeroshot.sentence_embeddings(model, tokenizer, [["a red circle"], ["a blue circle", "a blue square"]], P)


def test_equal_captions_get_exactly_equal_scores(micro):
    model, tokenizer = micro
    P = PROFILES["offline"]
    images = F.normalize(torch.randn(3, model.text_projection.shape[1]), dim=-1)
    captions = ["a red circle", "a blue square", "a red circle"]
    scores = zeroshot.caption_scores(model, tokenizer, images, captions, P)
    texts = encode_texts(model, tokenizer, captions, P)
    assert torch.allclose(scores, (images * texts).sum(-1), atol=1e-6)
    same = zeroshot.caption_scores(model, tokenizer, images[[0, 0]], ["a red circle", "a red circle"], P)
    assert same[0] == same[1]


def test_lab2_figures_draw():
    import matplotlib.pyplot as plt

    from utils.book import plots

    fig, (a, b) = plt.subplots(1, 2)
    plots.confusion(a, torch.tensor([[3, 1], [0, 0]]), ["red", "blue"], "a class that never occurs")
    plots.spread_bars(b, {"gain": [0.1, 0.2], "loss": [-0.1, 0.0]}, "accuracy", "spread")
    assert len(b.patches) == 2
    plt.close(fig)


class _WordCounter:
    """A stand-in CLIP whose text embedding counts the words of a tiny vocabulary."""

    vocabulary = ["red", "blue", "circle", "square"]

    def tokenize(self, texts):
        return torch.tensor([[t.split().count(w) for w in self.vocabulary] for t in texts], dtype=torch.float32)

    def encode_text(self, tokens, normalize=True):
        return torch.nn.functional.normalize(tokens + 1e-3, dim=-1)

    def eval(self):
        return self


def test_word_choice_accuracy_counts_images_whose_true_word_wins():
    from utils.recipes.zeroshot import word_choice_accuracy
    model = _WordCounter()
    images = model.encode_text(model.tokenize(["red circle", "red square", "blue square"]))
    captions, truth = ["one red circle", "one red square", "one blue square"], ["circle", "square", "circle"]
    # the third caption names a circle that is not there: its word is not in it
    with pytest.raises(ValueError, match="does not contain its true word"):
        word_choice_accuracy(model, model.tokenize, images, captions, truth, ["circle", "square"], PROFILES["offline"])
    captions[2] = "one blue circle"  # the image is a blue square: the true word "circle" loses
    acc = word_choice_accuracy(model, model.tokenize, images, captions, truth, ["circle", "square"], PROFILES["offline"])
    assert acc == pytest.approx(2 / 3)
