import math

import pytest
import torch
import torch.nn.functional as F
from sklearn.neighbors import KNeighborsClassifier

from utils.recipes.embedding_space import close_gap, gap_class_term, knn_accuracy, modality_gap, zero_shot_accuracy


def unit(*rows) -> torch.Tensor:
    return F.normalize(torch.tensor(rows, dtype=torch.float32), dim=-1)


def test_knn_hand_computed_excludes_the_point_itself():
    # two tight pairs on opposite sides; with itself excluded each point's nearest is its partner
    emb = unit([1, 0], [0.99, 0.1], [-1, 0], [-0.99, -0.1])
    assert knn_accuracy(emb, torch.tensor([0, 0, 1, 1]), k=1) == 1.0
    assert knn_accuracy(emb, torch.tensor([0, 1, 0, 1]), k=1) == 0.0  # partners disagree everywhere


def test_knn_identical_copy_is_a_neighbour():
    emb = unit([1, 0], [1, 0], [0, 1])
    assert knn_accuracy(emb, torch.tensor([0, 0, 1]), k=1) == pytest.approx(2 / 3)


def test_knn_tied_vote_goes_to_the_smallest_class():
    # points 0 and 2 each see one neighbour of class 1 and one of class 2: the tie goes to 1
    emb = unit([1, 0], [0.9, 0.1], [0.9, -0.2], [-1, 0])
    assert knn_accuracy(emb, torch.tensor([1, 2, 1, 0]), k=2) == 0.5  # points 0 and 2 are right
    assert knn_accuracy(emb, torch.tensor([2, 2, 1, 0]), k=2) == 0.0


def test_knn_matches_scikit_learn():
    torch.manual_seed(0)
    emb = F.normalize(torch.randn(60, 5), dim=-1)
    labels = torch.randint(0, 4, (60,))
    for k in (1, 2, 4, 7, 20):
        dist = (1 - emb @ emb.T).double()
        dist.fill_diagonal_(10.0)  # leave one out: itself is the farthest point
        clf = KNeighborsClassifier(n_neighbors=k, metric="precomputed").fit(dist.numpy(), labels.numpy())
        expected = (clf.predict(dist.numpy()) == labels.numpy()).mean()
        assert knn_accuracy(emb, labels, k) == pytest.approx(expected), k


def test_knn_rejects_impossible_k():
    with pytest.raises(ValueError, match="k=3"):
        knn_accuracy(unit([1, 0], [0, 1], [1, 1]), torch.tensor([0, 1, 0]), k=3)


def test_modality_gap_is_the_centroid_distance():
    images, texts = unit([1, 0], [0, 1]), unit([-1, 0])
    assert modality_gap(images, texts) == pytest.approx(math.hypot(1.5, 0.5))
    assert modality_gap(images, images) == 0.0


def test_zero_shot_accuracy_hand_computed():
    images, texts = unit([1, 0], [0, 1], [1, 0.1]), unit([1, 0], [0, 1])
    assert zero_shot_accuracy(images, texts, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)


def test_close_gap_moves_the_centroid_and_keeps_unit_norm():
    torch.manual_seed(1)
    images = F.normalize(torch.randn(50, 8) + 3, dim=-1)
    texts = F.normalize(torch.randn(7, 8) - 3, dim=-1)
    shifted = close_gap(images, texts)
    assert shifted.norm(dim=-1) == pytest.approx(torch.ones(50))
    assert modality_gap(shifted, texts) < 0.3 * modality_gap(images, texts)


def test_closing_the_gap_changes_the_argmax_only_through_the_class_term():
    torch.manual_seed(2)
    images = F.normalize(torch.randn(200, 6) + torch.tensor([2.0, 0, 0, 0, 0, 0]), dim=-1)
    texts = F.normalize(torch.randn(5, 6), dim=-1)
    after = (close_gap(images, texts) @ texts.T).argmax(1)
    assert torch.equal(after, (images @ texts.T + gap_class_term(images, texts)).argmax(1))
    assert not torch.equal(after, (images @ texts.T).argmax(1))  # the case is not trivial
