"""Lab 11's vector-search module: the collection generator, index building and measuring, and the references of
the lab's tasks, each against a value worked out by hand or an independent implementation."""
import faiss
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from utils.recipes import search


def unit_rows(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)), dim=1)


def test_recall_vs_exact_by_hand():
    found = torch.tensor([[1, 2, 9], [-1, -1, -1], [4, 5, 6]])
    exact = torch.tensor([[2, 1, 3], [7, 8, 9], [6, 5, 4]])
    assert search.recall_vs_exact(found, exact) == pytest.approx((2 + 0 + 3) / 9)
    assert search.recall_vs_exact(torch.tensor([[3, 1, 2]]), torch.tensor([[1, 2]])) == pytest.approx(0.5)


def test_exact_search_torch_matches_faiss_flat():
    collection, queries = unit_rows(500, 16, 1), unit_rows(33, 16, 2)
    index = faiss.IndexFlatIP(16)
    index.add(collection.numpy())
    scores, ids = index.search(queries.numpy(), 7)
    mine_scores, mine_ids = search.exact_search_torch(queries, collection, 7, chunk=8)
    assert torch.equal(mine_ids, torch.from_numpy(ids))
    torch.testing.assert_close(mine_scores, torch.from_numpy(scores), atol=1e-5, rtol=0)


def test_pick_index_by_hand_and_when_nothing_fits():
    table = pd.DataFrame({"recall@10": [1.0, 0.9, 0.9, 0.3], "single ms": [50.0, 2.0, 1.0, 0.2],
                          "bytes/vector": [512.0, 520.0, 700.0, 24.0]}, index=["a", "b", "c", "d"])
    assert search.pick_index(table, 1e9, 1e9) == "a"
    assert search.pick_index(table, 1e9, 2.0) == "c"  # tie on recall: the faster
    assert search.pick_index(table, 600, 2.0) == "b"  # c is too big; b is exactly at the time budget
    with pytest.raises(ValueError, match="no index fits"):
        search.pick_index(table, 10, 1.0)


def test_rerank_by_hand():
    candidates = torch.tensor([[10, 11, 12]])
    first = torch.tensor([[3.0, 2.0, 1.0]])  # z-scores 1, 0, -1
    second = torch.tensor([[-30.0, -10.0, -20.0]])  # z-scores -1, 1, 0
    assert search.rerank(candidates, first, second, 1.0).tolist() == [[10, 11, 12]]
    assert search.rerank(candidates, first, second, 0.0).tolist() == [[11, 12, 10]]
    # weight 0.75: 0.5, 0.25, -0.75
    assert search.rerank(candidates, first, second, 0.75).tolist() == [[10, 11, 12]]
    # weight 0.25: -0.5, 0.75, -0.25
    assert search.rerank(candidates, first, second, 0.25).tolist() == [[11, 12, 10]]
    flat = torch.zeros(1, 3)  # no preference at all: the first stage's order stands
    assert search.rerank(candidates, flat, flat, 0.5).tolist() == [[10, 11, 12]]


def test_extend_collection_keeps_the_real_rows_and_their_clusters():
    centres = unit_rows(4, 32, 3)
    real = F.normalize(centres.repeat_interleave(100, 0) + 0.1 * unit_rows(400, 32, 4), dim=1)
    out = search.extend_collection(real, 5000, n_clusters=4, seed=0)
    assert out.shape == (5000, 32) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:400], real.numpy())
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    nearest_centre = (torch.from_numpy(out[400:]) @ centres.T).max(dim=1).values
    assert nearest_centre.min() > 0.8  # every generated row lies in one of the real clusters
    share = np.bincount((torch.from_numpy(out[400:]) @ centres.T).argmax(dim=1).numpy(), minlength=4) / 4600
    np.testing.assert_allclose(share, 0.25, atol=0.03)  # as often as the real rows fall in each
    with pytest.raises(ValueError, match="cannot hold the 400 real embeddings"):
        search.extend_collection(real, 100)


@pytest.mark.parametrize("kind, low, high", [("Flat", 128, 129), ("IVF", 136, 140), ("IVF-PQ", 24, 28),
                                             ("HNSW", 128 + 8, 128 + 8 * 16)])
def test_build_index_reports_bytes_per_vector(kind, low, high):
    vectors = search.extend_collection(unit_rows(400, 32, 5), 12_000, n_clusters=8)
    built = search.build_index(kind, vectors, nlist=32, pq_m=16, hnsw_m=8)
    assert built.index.ntotal == 12_000
    assert low <= built.bytes_per_vector <= high  # 32 float32 = 128 bytes; PQ16: 16 bytes and an 8-byte id


def test_sweep_measures_recall_against_exact_and_more_probes_find_more():
    vectors = search.extend_collection(unit_rows(400, 32, 6), 20_000, n_clusters=8)
    queries = unit_rows(50, 32, 7).numpy()
    exact = torch.from_numpy(search.build_index("Flat", vectors).index.search(queries, 10)[1])
    table = search.sweep(search.build_index("IVF", vectors, nlist=64), [1, 64], {"text": (queries, exact)},
                         search.recall_vs_exact)
    assert list(table["value"]) == [1, 64]
    assert table["recall@10"].iloc[0] < table["recall@10"].iloc[1] == pytest.approx(1.0)


def test_build_index_rejects_unknown_kinds_and_bad_pq_splits():
    vectors = unit_rows(100, 30).numpy()
    with pytest.raises(ValueError, match="unknown index kind 'LSH'"):
        search.build_index("LSH", vectors)
    with pytest.raises(ValueError, match="not divisible by 16"):
        search.build_index("IVF-PQ", vectors)
    with pytest.raises(ValueError, match="cannot make nlist=1024 cells from 100 vectors: lower nlist"):
        search.build_index("IVF", vectors)


def test_fastest_reaching_names_the_winner():
    table = pd.DataFrame({"index": ["Flat", "IVF", "IVF", "HNSW"], "recall@10": [1.0, 0.7, 0.95, 0.9],
                          "single ms": [50.0, 0.1, 1.0, 0.3]})
    wins = search.fastest_reaching(table, [0.5, 0.9, 0.99])
    assert list(wins["fastest"]) == ["IVF", "HNSW", "Flat"]
    assert wins.loc[0.9, "IVF"] == 1.0 and np.isnan(wins.loc[0.99, "HNSW"])


@pytest.mark.parametrize("kind", ["Flat", "IVF", "IVF-PQ", "HNSW"])
def test_index_bytes_counts_what_faiss_would_write(kind):
    vectors = search.extend_collection(unit_rows(400, 32, 8), 12_000, n_clusters=8)
    index = search.build_index(kind, vectors, nlist=32, pq_m=16, hnsw_m=8).index
    written = len(faiss.serialize_index(index))
    assert abs(search.index_bytes(index) - written) <= 0.02 * written


def test_pq_reference_equals_faiss_and_a_wrong_pq_is_caught():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((10_000, 32)).astype(np.float32)
    queries = rng.standard_normal((8, 32)).astype(np.float32)
    quantizer = search.train_pq(vectors, 4)
    search.check_pq(search.pq_encode, search.pq_distances, quantizer, vectors[:1000], queries)
    # by hand: one sub-space, two centroids; the vector 0.9 is nearer 1.0, and its distance to the query 0 is 1.0
    centroids = torch.tensor([[[0.0], [1.0]]])
    assert search.pq_encode(torch.tensor([[0.9], [0.2]]), centroids).tolist() == [[1], [0]]
    assert search.pq_distances(torch.tensor([[0.0]]), torch.tensor([[1], [0]]), centroids).tolist() == [[1.0, 0.0]]
    with pytest.raises(AssertionError, match="codes differ"):
        search.check_pq(lambda v, c: search.pq_encode(v, c).flip(1), search.pq_distances, quantizer, vectors[:500],
                        queries)
    with pytest.raises(AssertionError, match="distances differ"):
        search.check_pq(search.pq_encode, lambda q, c, k: search.pq_distances(q, c, k).sqrt(), quantizer,
                        vectors[:500], queries)
