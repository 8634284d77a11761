"""Metrics, one module per family: `retrieval` (recall@k over similarity matrices or ranked lists), `captions`
(BLEU, ROUGE-L, CIDEr-D, tuple F1), `clipscore` (CLIPScore, RefCLIPScore), `facts` (a caption's facts against its scene),
`vqa` (VQA accuracy as the official script computes it) and `hallucination` (CHAIR, POPE).

The retrieval and fact metrics are re-exported here, so `from utils.metrics import recall_at_k` works.
`clipscore` is imported from its module: it needs `utils.clip`, which itself imports this package.
"""
from .facts import factual_precision_recall, is_true, scene_facts
from .retrieval import (
                        recall_at_1_ceiling,
                        recall_at_k,
                        recall_at_k_of_ranking,
                        recall_at_k_relevant,
                        same_text,
                        target_ranks,
                        usable_ks,
)

__all__ = ["factual_precision_recall", "is_true", "recall_at_1_ceiling", "recall_at_k", "recall_at_k_of_ranking",
           "recall_at_k_relevant", "same_text", "scene_facts", "target_ranks", "usable_ks"]
