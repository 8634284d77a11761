import huggingface_hub
import pandas as pd
import pytest
import torch

from utils.data import load_pairs, pairs_from_hub
from utils.data.convert import hub_table
from utils.data.world import DOMAIN_COLORS, DOMAIN_SHAPES
from utils.profiles import PROFILES
from utils.recipes.finetune import RECIPES, domain_pairs_file


def test_offline_domain_set_is_a_real_domain_shift_of_seed_size():
    df = load_pairs(domain_pairs_file(PROFILES["offline"]))
    assert 500 <= len(df) <= 2000  # the seed's dataset size
    images = df.drop_duplicates("image_id")
    assert (images.split == "test").sum() >= 50  # 50 held-out queries fit in the gallery
    text = " ".join(df.caption)
    assert all(word in text for word in (*DOMAIN_SHAPES, *DOMAIN_COLORS))


def test_t4_recipe_is_the_seeds():
    assert (RECIPES["t4"].epochs, RECIPES["t4"].batch_size, RECIPES["t4"].lr) == (5, 128, 1e-5)


def test_hub_download_is_read_and_converted(tmp_path, monkeypatch, png):
    for split, color in [("train", "red"), ("test", "blue")]:
        pd.DataFrame({"image": [{"bytes": png(color), "path": None}] * 10, "text_en": [f"a {color} tile"] * 10}
                     ).to_parquet(tmp_path / f"{split}-00000-of-00001.parquet")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda *a, **k: str(tmp_path))
    assert len(hub_table("someone/tiles", split="test")) == 10
    df = pairs_from_hub("someone/tiles", "image", "text_en")
    assert len(df) == 20 and set(df.caption) == {"a red tile", "a blue tile"} and "split" in df


def test_queries_are_clipped_to_the_gallery(capsys):
    from utils.recipes.finetune import pick_queries
    assert sorted(pick_queries(5, 50).tolist()) == [0, 1, 2, 3, 4]
    assert "50 queries asked for, but the gallery holds 5 images; using 5" in capsys.readouterr().out
    assert pick_queries(100, 10, seed=3).tolist() == pick_queries(100, 10, seed=3).tolist()


def test_ks_stop_below_the_gallery_size(capsys):
    from utils.metrics import usable_ks
    assert usable_ks(150) == (1, 5, 10) and capsys.readouterr().out == ""
    assert usable_ks(6) == (1, 5) and "reporting k = 1, 5 only" in capsys.readouterr().out
    assert usable_ks(2) == (1,)
    with pytest.raises(ValueError, match="at least 2 images"):
        usable_ks(1)


class Lookup(torch.nn.Module):
    """A 'CLIP' whose images are already embeddings and whose tokenizer looks captions up in a table."""

    def __init__(self, text: dict[str, list[float]]):
        super().__init__()
        self.names, self.vectors = list(text), torch.tensor(list(text.values()))

    def tokenize(self, texts):
        return torch.tensor([self.names.index(t) for t in texts])

    def encode_image(self, x, normalize=True):
        return torch.nn.functional.normalize(x, dim=-1)

    def encode_text(self, ids, normalize=True):
        return torch.nn.functional.normalize(self.vectors[ids], dim=-1)


def test_evaluate_retrieval_by_hand():
    from utils.recipes.finetune import evaluate_retrieval
    model = Lookup({"up": [0.0, 1.0], "right": [1.0, 0.0], "diagonal": [1.0, 1.0]})
    images = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 0.9]])  # right, up, nearly diagonal
    recall, sim = evaluate_retrieval(model, model.tokenize, images, ["up", "diagonal", "right"],
                                     torch.tensor([1, 2, 2]), PROFILES["offline"], ks=(1, 2))
    assert sim.shape == (3, 3) and sim[0, 1].item() == pytest.approx(1.0)
    assert recall == pytest.approx({1: 2 / 3, 2: 1.0})  # "right" ranks image 2 second, after image 0


def replay_tables():
    domain = pd.DataFrame({"image_id": [0, 0, 1, 2, 3], "caption": ["d0a", "d0b", "d1", "d2", "d3"],
                           "split": ["train", "train", "train", "train", "test"]})
    generic = pd.DataFrame({"image_id": [i // 2 for i in range(20)], "caption": [f"g{i}" for i in range(20)],
                            "split": ["test"] * 4 + ["train"] * 16})
    return domain, generic


def test_replay_mix_adds_whole_generic_training_images_under_new_ids():
    from utils.recipes.finetune import replay_summary, with_replay
    domain, generic = replay_tables()
    mixed = with_replay(domain, generic, fraction=2 / 3)  # 3 domain training images -> 2 generic ones
    assert replay_summary(mixed, domain, generic) == {
        "rows": 8, "distinct image ids": 5, "domain training pairs, all and only, ids unchanged": True,
        "generic images": 2, "rows from the generic test split": 0, "generic images with all their captions": 2}
    assert with_replay(domain, generic, 0.0).caption.tolist() == ["d0a", "d0b", "d1", "d2"]
    assert with_replay(domain, generic, 10.0).image_id.nunique() == 3 + 8  # no more than the 8 generic train images


def test_replay_summary_sees_merged_ids_and_test_leaks():
    from utils.recipes.finetune import replay_summary
    domain, generic = replay_tables()
    leaky = pd.concat([domain[domain.split == "train"], generic.head(4)], ignore_index=True)  # ids 0, 1 collide
    summary = replay_summary(leaky, domain, generic)
    assert summary["distinct image ids"] == 3 and summary["rows from the generic test split"] == 4


def test_own_data_gets_its_own_checkpoint_path(png):
    from utils.recipes.finetune import domain_clip_path
    offline = PROFILES["offline"]
    course = load_pairs(domain_pairs_file(offline))
    mine = pd.DataFrame({"image": [png(i) for i in range(6)], "caption": ["x"] * 6, "split": ["train"] * 6})
    assert domain_clip_path(offline, course) != domain_clip_path(offline, mine)
    assert domain_clip_path(offline, course) == domain_clip_path(offline, load_pairs(domain_pairs_file(offline)))
