import pytest
import torch

from utils.metrics import recall_at_k, target_ranks


def test_hand_computed_ranks():
    sim = torch.tensor([[0.9, 0.1, 0.0],   # target 0 ranks 1st
                        [0.8, 0.5, 0.1],   # target 1 ranks 2nd
                        [0.7, 0.6, 0.2]])  # target 2 ranks 3rd
    assert target_ranks(sim, torch.tensor([0, 1, 2])).tolist() == [0, 1, 2]
    r = recall_at_k(sim, torch.tensor([0, 1, 2]), ks=(1, 2, 3))
    assert r == pytest.approx({1: 1 / 3, 2: 2 / 3, 3: 1.0})


def test_ties_count_against_the_query():
    sim = torch.zeros(4, 4)  # a collapsed model must not score by luck
    assert recall_at_k(sim, torch.arange(4), ks=(1, 3))[1] == 0.0
    assert recall_at_k(sim, torch.arange(4), ks=(1, 3))[3] == 0.0


def test_non_diagonal_targets():
    sim = torch.tensor([[0.1, 0.9], [0.8, 0.2]])
    assert recall_at_k(sim, torch.tensor([1, 0]), ks=(1,))[1] == 1.0
    assert recall_at_k(sim, torch.tensor([0, 1]), ks=(1,))[1] == 0.0


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="2 queries but targets has 3"):
        recall_at_k(torch.zeros(2, 5), torch.arange(3))
