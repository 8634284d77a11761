import pytest
import torch

from utils.metrics import recall_at_k, recall_at_k_of_ranking, target_ranks


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


def test_relevant_recall_counts_any_relevant_item():
    from utils.metrics import recall_at_k_relevant
    sim = torch.tensor([[0.2, 0.9, 0.5],   # best relevant (0.5) has one irrelevant above it -> rank 1
                        [0.1, 0.3, 0.8]])  # item 2 is relevant and first -> rank 0
    relevant = torch.tensor([[True, False, True], [False, True, True]])
    assert recall_at_k_relevant(sim, relevant, ks=(1, 2)) == pytest.approx({1: 0.5, 2: 1.0})


def test_relevant_recall_equals_recall_with_one_target_and_counts_ties_against():
    from utils.metrics import recall_at_k_relevant
    g = torch.Generator().manual_seed(0)
    sim = torch.randn(6, 9, generator=g)
    targets = torch.tensor([0, 3, 3, 8, 1, 5])
    one_hot = torch.nn.functional.one_hot(targets, 9).bool()
    assert recall_at_k_relevant(sim, one_hot, ks=(1, 3)) == recall_at_k(sim, targets, ks=(1, 3))
    tied = torch.zeros(2, 3)
    assert recall_at_k_relevant(tied, torch.tensor([[True, False, False]] * 2), ks=(1,))[1] == 0.0


def test_relevant_recall_needs_a_relevant_item_per_query():
    from utils.metrics import recall_at_k_relevant
    with pytest.raises(ValueError, match="query 1 has no relevant"):
        recall_at_k_relevant(torch.zeros(2, 2), torch.tensor([[True, False], [False, False]]))


def test_same_text_and_recall_ceiling():
    from utils.metrics import recall_at_1_ceiling, same_text
    queries = ["a red circle", "a blue square", "a red circle"]
    assert same_text(queries, queries).tolist() == [[True, False, True], [False, True, False], [True, False, True]]
    assert same_text(["x"], ["y", "x"]).tolist() == [[False, True]]
    assert recall_at_1_ceiling(queries) == pytest.approx(2 / 3)
    sim = torch.tensor([[0.9, 0.1, 0.5], [0.0, 0.8, 0.0], [0.9, 0.1, 0.5]])  # identical queries, one ranking
    assert recall_at_k(sim, torch.arange(3), ks=(1,))[1] == pytest.approx(recall_at_1_ceiling(queries))


def test_recall_at_k_of_ranking_by_hand():
    ranked = torch.tensor([[5, 1, 2], [0, 3, 4], [9, 8, 7]])
    assert recall_at_k_of_ranking(ranked, torch.tensor([5, 3, 6]), ks=(1, 2, 3)) == {
        1: pytest.approx(1 / 3), 2: pytest.approx(2 / 3), 3: pytest.approx(2 / 3)}
