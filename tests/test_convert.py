import pandas as pd
import pytest
from PIL import Image

from utils.data import PairsError, assign_splits, ensure_splits, load_pairs, pairs_from_folder, pairs_from_table, save_pairs


def test_hub_style_table_converts_to_the_contract(tmp_path, png):
    # Hub parquet files store images as {'bytes', 'path'} structs; PIL images and raw bytes also work
    table = pd.DataFrame({"img": [{"bytes": png("red"), "path": None}, Image.new("L", (8, 8)), png("blue")] * 10,
                          "text_en": [" a red square ", "a black square", "a blue square"] * 10})
    df = pairs_from_table(table, "img", "text_en", seed=1)
    assert list(df.columns[:2]) == ["image", "caption"] and df.caption[0] == "a red square"
    assert df.split.value_counts().to_dict() == {"train": 24, "val": 3, "test": 3}
    assert len(load_pairs(save_pairs(df, tmp_path / "pairs.parquet"))) == 30


def test_wrong_column_names_are_named(png):
    with pytest.raises(PairsError, match=r"\['caption'\] not found.*\['image', 'text'\]"):
        pairs_from_table(pd.DataFrame({"image": [png("red")], "text": ["x"]}), "image", "caption")


def test_folder_and_csv(tmp_path, png):
    for name, color in [("a.png", "red"), ("b.png", "green")]:
        (tmp_path / name).write_bytes(png(color))
    csv = tmp_path / "captions.csv"
    pd.DataFrame({"file": ["a.png", "a.png", "b.png"], "caption": ["red", "a red tile", "green"]}).to_csv(csv, index=False)
    df = pairs_from_folder(tmp_path, csv)
    assert df.image_id.tolist() == [0, 0, 1] and df.groupby("image_id").split.nunique().eq(1).all()
    pd.DataFrame({"file": ["a.png", "missing.png"], "caption": ["x", "y"]}).to_csv(csv, index=False)
    with pytest.raises(PairsError, match="missing.png"):
        pairs_from_folder(tmp_path, csv)


def test_splits_keep_an_images_captions_together_and_are_reproducible():
    df = pd.DataFrame({"image_id": [i // 3 for i in range(300)], "caption": ["c"] * 300})
    a, b = assign_splits(df, seed=0), assign_splits(df, seed=0)
    assert a.split.tolist() == b.split.tolist()
    assert a.groupby("image_id").split.nunique().eq(1).all()
    assert a.drop_duplicates("image_id").split.value_counts().to_dict() == {"train": 80, "val": 10, "test": 10}


def test_missing_ids_and_splits_are_filled_and_a_split_without_test_is_named(png):
    df = ensure_splits(pd.DataFrame({"image": [png("red")] * 20, "caption": ["x"] * 20}))
    assert df.image_id.tolist() == list(range(20)) and set(df.split) == {"train", "val", "test"}
    with pytest.raises(PairsError, match=r"no \['test'\] rows"):
        ensure_splits(df.assign(split="train"))
