"""Vector search at scale with FAISS (Lab 11): a collection of a million embeddings, indexes, their measurements.

The indexes are FAISS's (Johnson et al. 2019), built from factory strings over inner products of unit vectors
(cosine similarity): `Flat` (exact), `IVF{nlist},Flat`, `IVF{nlist},PQ{m}x8` and `HNSW{M},Flat`. This module
makes the collection, builds and times indexes and sweeps their search knobs; the ideas a student writes
(recall against exact search, a torch exact search, product quantisation's codes and distances, choosing an index,
re-ranking) have their reference here.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..data.pairs import decode_image
from ..models.clip import encode_images
from ..models.language_model import DESCRIBE
from ..profiles import Profile


def extend_collection(real: torch.Tensor, n_total: int, n_clusters: int = 64, noise: float = 0.25, seed: int = 0,
                      chunk: int = 100_000) -> np.ndarray:
    """`real` unit embeddings (R, d) followed by `n_total - R` generated ones with the same cluster structure.

    k-means (FAISS, cosine) groups the real rows into `n_clusters` clusters. Each generated row picks a cluster as
    often as the real rows fall in it, then a random point on the segment between two of its real members, plus
    Gaussian noise of `noise` times the cluster's spread per dimension, renormalised: new points lie where the
    real ones do (between neighbours of one cluster), not in a ball around the centroid. Rows 0..R-1 stay the
    real ones, so their ids keep meaning the real images.
    """
    real = np.ascontiguousarray(real.numpy(), dtype=np.float32)
    n_real, dim = real.shape
    if n_total < n_real:
        raise ValueError(f"a collection of {n_total} vectors cannot hold the {n_real} real embeddings: ask for at least "
                         f"{n_real} (the lab's n_collection).")
    n_clusters = max(1, min(n_clusters, n_real // 40))  # FAISS warns below 39 points per centroid
    kmeans = faiss.Kmeans(dim, n_clusters, niter=20, seed=seed, spherical=True, verbose=False)
    kmeans.train(real)
    assignment = kmeans.index.search(real, 1)[1][:, 0]
    sizes = np.bincount(assignment, minlength=n_clusters)
    by_cluster = np.argsort(assignment, kind="stable")  # real row ids, cluster by cluster, ascending within each
    first = np.cumsum(sizes) - sizes  # where each cluster's ids start in `by_cluster`
    spread = np.stack([real[assignment == c].std(0) if sizes[c] > 1 else real.std(0)
                       for c in range(n_clusters)]).astype(np.float32)
    rng = np.random.default_rng(seed)
    out = np.empty((n_total, dim), dtype=np.float32)
    out[:n_real] = real
    for start in tqdm(range(n_real, n_total, chunk), desc="generating the collection", leave=False):
        size = min(start + chunk, n_total) - start
        cluster = rng.choice(n_clusters, size=size, p=sizes / n_real)
        pick = lambda: by_cluster[first[cluster] + (rng.random(size) * sizes[cluster]).astype(int)]  # noqa: E731
        mix = rng.random((size, 1), dtype=np.float32)
        rows = mix * real[pick()] + (1 - mix) * real[pick()]
        rows += noise * spread[cluster] * rng.standard_normal((size, dim), dtype=np.float32)
        out[start:start + size] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def nearest_neighbour_cosines(vectors: np.ndarray, n: int = 1000, seed: int = 0) -> np.ndarray:
    """Each of `n` random rows' cosine with its nearest other row of `vectors` (exact search)."""
    rows = np.random.default_rng(seed).choice(len(vectors), size=min(n, len(vectors)), replace=False)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index.search(vectors[rows], 2)[0][:, 1]


# "np": no polysemous training of the PQ codes (FAISS does it by default; it costs minutes and only serves
# Hamming-distance filtering, which these searches do not use)
FACTORY = {"Flat": "Flat", "IVF": "IVF{nlist},Flat", "IVF-PQ": "IVF{nlist},PQ{pq_m}x8np", "HNSW": "HNSW{hnsw_m},Flat"}
KNOB = {"IVF": "nprobe", "IVF-PQ": "nprobe", "HNSW": "efSearch"}  # the search-time knob each kind sweeps


@dataclass
class Built:
    """An index with what it cost to make: seconds to train and add, bytes per stored vector."""

    kind: str
    index: faiss.Index
    train_s: float
    add_s: float
    bytes_per_vector: float


def build_index(kind: str, vectors: np.ndarray, nlist: int = 1024, pq_m: int = 16, hnsw_m: int = 16,
                ef_construction: int = 40, train_size: int = 50_000, seed: int = 0) -> Built:
    """Build a `kind` index ("Flat", "IVF", "IVF-PQ", "HNSW") over unit `vectors`; IVF's k-means and PQ's codebooks
    are trained on `train_size` random rows (FAISS asks for at least 39 per centroid)."""
    if kind not in FACTORY:
        raise ValueError(f"unknown index kind {kind!r}; choose one of {list(FACTORY)}.")
    dim = vectors.shape[1]
    if kind == "IVF-PQ" and dim % pq_m:
        raise ValueError(f"PQ{pq_m} splits a vector into {pq_m} equal parts, and {dim} is not divisible by {pq_m}.")
    n_train = min(train_size, len(vectors))
    if kind in ("IVF", "IVF-PQ") and n_train < nlist:
        raise ValueError(f"IVF's k-means cannot make nlist={nlist} cells from {n_train} vectors: lower nlist (about "
                         f"4 * sqrt(N) = {int(4 * len(vectors) ** 0.5)} for N = {len(vectors)}) or add vectors.")
    if kind == "IVF-PQ" and n_train < 256:
        raise ValueError(f"PQ learns 256 centroids per sub-vector and needs at least 256 vectors, got {n_train}.")
    index = faiss.index_factory(dim, FACTORY[kind].format(nlist=nlist, pq_m=pq_m, hnsw_m=hnsw_m),
                                faiss.METRIC_INNER_PRODUCT)
    if kind == "HNSW":
        index.hnsw.efConstruction = ef_construction
    start = time.perf_counter()
    if not index.is_trained:
        rows = np.random.default_rng(seed).choice(len(vectors), size=n_train, replace=False)
        index.train(vectors[np.sort(rows)])
    trained = time.perf_counter()
    index.add(vectors)
    added = time.perf_counter()
    return Built(kind, index, trained - start, added - trained, index_bytes(index) / index.ntotal)


def index_bytes(index: faiss.Index) -> int:
    """What the index keeps in memory, counted from its parts (serialising it would need a second copy): stored
    vectors or codes, 8-byte ids, IVF centroids and PQ codebooks, HNSW's links and levels."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexHNSW):
        hnsw = index.hnsw
        return (index_bytes(index.storage) + 4 * hnsw.neighbors.size() + 4 * hnsw.levels.size()
                + 8 * hnsw.offsets.size())
    if isinstance(index, faiss.IndexIVF):
        size = index.ntotal * (index.code_size + 8) + index_bytes(index.quantizer)
        if isinstance(index, faiss.IndexIVFPQ):
            size += 4 * index.pq.centroids.size()
        return size
    return index.ntotal * index.code_size  # Flat: the vectors themselves


def set_knob(index: faiss.Index, kind: str, value: int) -> None:
    """Set the search-time knob of `kind` (IVF: nprobe, HNSW: efSearch)."""
    if kind == "HNSW":
        index.hnsw.efSearch = value
    elif kind in ("IVF", "IVF-PQ"):
        index.nprobe = value


def timed_search(index: faiss.Index, queries: np.ndarray, k: int, n_single: int = 20) -> tuple[np.ndarray, float, float]:
    """(ids (Q, k), ms per query when all queries go in one call, median ms of `n_single` one-query calls)."""
    start = time.perf_counter()
    ids = index.search(queries, k)[1]
    batched = (time.perf_counter() - start) * 1e3 / len(queries)
    single = []
    for q in queries[:n_single]:
        start = time.perf_counter()
        index.search(q[None], k)
        single.append((time.perf_counter() - start) * 1e3)
    return ids, batched, float(np.median(single))


def measured_row(built: Built, value: int | None, queries: str, recall: float, batched: float, single: float,
                 k: int) -> dict:
    """One row of a results table: the index, its knob setting, the query set and what was measured."""
    return {"index": built.kind, "knob": KNOB.get(built.kind, "-"), "value": value, "queries": queries,
            f"recall@{k}": recall, "batched ms/query": batched, "single ms": single,
            "bytes/vector": built.bytes_per_vector, "build s": built.train_s + built.add_s}


def sweep(built: Built, values: Sequence[int], query_sets: dict[str, tuple[np.ndarray, torch.Tensor]], recall,
          k: int = 10) -> pd.DataFrame:
    """One row per knob value and query set (name -> (queries, exact ids)): recall@k against exact search, computed
    with the lab's `recall(found, exact)`, and latencies."""
    rows = []
    for value in values:
        set_knob(built.index, built.kind, value)
        for name, (queries, exact) in query_sets.items():
            ids, batched, single = timed_search(built.index, queries, k)
            rows.append(measured_row(built, value, name, recall(torch.from_numpy(ids), exact), batched, single, k))
    return pd.DataFrame(rows)


# references for the lab's tasks

def recall_vs_exact(found: torch.Tensor, exact: torch.Tensor) -> float:
    """Mean over queries of |found_q ∩ exact_q| / k, with k = exact's width; -1 (no result) never counts."""
    k = exact.shape[1]
    hits = [len((set(f.tolist()) & set(e.tolist())) - {-1}) for f, e in zip(found[:, :k], exact)]
    return sum(hits) / (k * len(exact))


def exact_search_torch(queries: torch.Tensor, collection: torch.Tensor, k: int, chunk: int = 256
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """(scores (Q, k), ids (Q, k)) of each query's k largest inner products, queries taken `chunk` at a time."""
    scores, ids = zip(*(torch.topk(part @ collection.T, k, dim=1) for part in queries.split(chunk)))
    return torch.cat(scores), torch.cat(ids)


@dataclass
class ProductQuantizer:
    """A trained FAISS product quantizer (`pq`) and its codebooks as a tensor (M, 256, d / M)."""
    pq: faiss.ProductQuantizer
    centroids: torch.Tensor


def train_pq(vectors: np.ndarray, m: int, seed: int = 0) -> ProductQuantizer:
    """FAISS's product quantizer with `m` sub-vectors of 8 bits, trained on `vectors` (at least 256 rows)."""
    n, dim = vectors.shape
    if dim % m or n < 256:
        raise ValueError(f"PQ{m} needs a dimension divisible by {m} (got {dim}) and at least 256 training vectors "
                         f"(got {n}).")
    pq = faiss.ProductQuantizer(dim, m, 8)
    pq.cp.seed = seed
    pq.train(np.ascontiguousarray(vectors, dtype=np.float32))
    centroids = faiss.vector_to_array(pq.centroids).reshape(m, pq.ksub, pq.dsub)
    return ProductQuantizer(pq, torch.from_numpy(centroids.copy()))


def pq_encode(vectors: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """(N, M) codes: for each of the M sub-vectors of each row of `vectors` (N, d), the index of the nearest (squared
    L2) of the K centroids of its sub-space (`centroids` (M, K, d / M))."""
    m, _, dsub = centroids.shape
    parts = vectors.reshape(len(vectors), m, 1, dsub)
    return ((parts - centroids[None]) ** 2).sum(-1).argmin(-1)


def pq_distances(queries: torch.Tensor, codes: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """(Q, N) asymmetric squared L2 distances from raw `queries` (Q, d) to coded vectors (`codes` (N, M)): one (M, K)
    table per query of its sub-vectors' distances to every centroid, then M look-ups summed per code."""
    m, _, dsub = centroids.shape
    tables = ((queries.reshape(len(queries), m, 1, dsub) - centroids[None]) ** 2).sum(-1)  # (Q, M, K)
    looked_up = tables.gather(2, codes.T.unsqueeze(0).expand(len(queries), -1, -1))  # (Q, M, N)
    return looked_up.sum(1)


def check_pq(encode, distances, quantizer: ProductQuantizer, vectors: np.ndarray, queries: np.ndarray,
             k: int = 10) -> None:
    """Check a student's PQ against FAISS on the same codebooks: codes equal to `ProductQuantizer.compute_codes` (or
    as near, where two centroids tie to float precision), and each query's k smallest distances equal to those
    `IndexPQ` returns, to 1e-4 (distances, not ids: ties)."""
    codes = torch.as_tensor(encode(torch.from_numpy(vectors), quantizer.centroids)).long()
    expected = torch.from_numpy(quantizer.pq.compute_codes(np.ascontiguousarray(vectors)).astype(np.int64))
    assert codes.shape == expected.shape, f"pq_encode: codes of shape {tuple(codes.shape)}, expected (N, M)."
    # a code that differs from FAISS's is still right when its centroid is as near (a tie to float precision)
    parts = torch.from_numpy(vectors).reshape(len(vectors), quantizer.pq.M, -1)
    sub_spaces = torch.arange(quantizer.pq.M)
    near = lambda chosen: ((parts - quantizer.centroids[sub_spaces, chosen]) ** 2).sum(-1)  # noqa: E731
    ours, theirs = near(codes.clamp(0, quantizer.pq.ksub - 1)), near(expected)
    wrong = ((codes != expected) & (ours > theirs + 1e-6 * (1 + theirs))).any(dim=1)
    assert not wrong.any(), (
        f"pq_encode: {int(wrong.sum())} of {len(vectors)} codes differ from FAISS's compute_codes (first: row "
        f"{int(wrong.nonzero()[0]) if wrong.any() else '-'}); each code is the nearest centroid, by squared L2, in "
        "each sub-space.")
    index = faiss.IndexPQ(vectors.shape[1], quantizer.pq.M, 8)
    index.pq = quantizer.pq
    index.is_trained = True
    index.add(np.ascontiguousarray(vectors))
    faiss_best = torch.from_numpy(index.search(np.ascontiguousarray(queries), k)[0])
    ours = distances(torch.from_numpy(queries), expected, quantizer.centroids)
    assert ours.shape == (len(queries), len(vectors)), f"pq_distances: shape {tuple(ours.shape)}, expected (Q, N)."
    ours_best = ours.topk(k, dim=1, largest=False).values
    gap = (ours_best - faiss_best).abs().max().item()
    assert gap < 1e-4, f"pq_distances: the {k} smallest distances differ from IndexPQ's by up to {gap:.2e}."
    print(f"PQ{quantizer.pq.M}: codes agree with FAISS's for {len(vectors)} vectors; distances equal IndexPQ's to "
          f"{max(gap, 1e-7):.0e}")


def pick_index(table: pd.DataFrame, max_bytes: float, max_ms: float) -> int:
    """Row label of `table` with the best recall among rows within both budgets (ties: fewer ms); error if none."""
    recall = next(c for c in table.columns if c.startswith("recall"))
    fits = table[(table["bytes/vector"] <= max_bytes) & (table["single ms"] <= max_ms)]
    if fits.empty:
        raise ValueError(f"no index fits {max_bytes} bytes per vector and {max_ms} ms per query.")
    return fits.sort_values([recall, "single ms"], ascending=[False, True], kind="stable").index[0]


def rerank(candidates: torch.Tensor, first: torch.Tensor, second: torch.Tensor, weight: float) -> torch.Tensor:
    """Candidates (Q, K) reordered by `weight * z(first) + (1 - weight) * z(second)`, z standardising each
    query's K scores (mean 0, std 1; a constant row becomes 0); best first, ties keep the first stage's order."""
    def z(scores: torch.Tensor) -> torch.Tensor:
        std = scores.std(dim=1, keepdim=True)
        return torch.where(std > 0, (scores - scores.mean(dim=1, keepdim=True)) / std.clamp_min(1e-12), 0.0)
    fused = weight * z(first) + (1 - weight) * z(second)
    return candidates.gather(1, fused.argsort(dim=1, descending=True, stable=True))


def embed_images(model, images: Sequence[bytes], preprocess, profile: Profile, chunk: int = 256) -> torch.Tensor:
    """Unit image embeddings (N, d) of encoded images, decoded and encoded `chunk` at a time (with progress)."""
    out = []
    for start in tqdm(range(0, len(images), chunk), desc="encoding images", leave=False):
        pixels = torch.stack([preprocess(decode_image(data)) for data in images[start:start + chunk]])
        out.append(encode_images(model, pixels, profile))
    return torch.cat(out)


def fastest_reaching(table: pd.DataFrame, targets: Sequence[float], latency: str = "single ms") -> pd.DataFrame:
    """For each recall target (rows) and index kind (columns): the lowest `latency` of a setting that reaches it
    (NaN: none does), and the kind that wins."""
    recall = next(c for c in table.columns if c.startswith("recall"))
    out = pd.DataFrame({kind: [rows.loc[rows[recall] >= t, latency].min() for t in targets]
                        for kind, rows in table.groupby("index", sort=False)}, index=pd.Index(targets, name=recall))
    out["fastest"] = out.idxmin(axis=1, skipna=True).where(out.notna().any(axis=1), "none")
    return out


@torch.no_grad()
def captioner_scores(vlm, pixels: torch.Tensor, candidates: torch.Tensor, queries: Sequence[str], profile: Profile,
                     rows_per_call: int = 80) -> torch.Tensor:
    """(Q, K) log p(query q | candidate image) from a captioner (`VisionLanguageModel.log_likelihood`), with the
    describe prompt the captioner was trained on; `pixels` are the gallery's preprocessed images."""
    pairs = [(q, int(i)) for q in range(len(queries)) for i in candidates[q]]
    out = []
    for start in tqdm(range(0, len(pairs), rows_per_call), desc="re-ranker scoring", leave=False):
        q, i = zip(*pairs[start:start + rows_per_call])
        with profile.autocast():
            out.append(vlm.log_likelihood(pixels[list(i)], [DESCRIBE] * len(q), [queries[j] for j in q]))
    return torch.cat(out).view(candidates.shape)
