import huggingface_hub
import pandas as pd

from utils.data import load_pairs, pairs_from_hub
from utils.data.convert import hub_table
from utils.data.world import DOMAIN_COLORS, DOMAIN_SHAPES
from utils.finetune import RECIPES, domain_pairs_file
from utils.profiles import PROFILES


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
