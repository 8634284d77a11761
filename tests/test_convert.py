import pandas as pd
import pytest
from PIL import Image

from utils.data import (
    PairsError,
    assign_splits,
    ensure_splits,
    load_pairs,
    pairs_from_folder,
    pairs_from_table,
    save_pairs,
)


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
    for name, color in [("a.png", "red"), ("b.png", "green"), ("c.png", "blue"), ("d.gif", "gray")]:
        (tmp_path / name).write_bytes(png(color))
    csv = tmp_path / "captions.csv"
    pd.DataFrame({"file": ["a.png", "a.png", "b.png", "c.png", "d.gif"],
                  "caption": ["red", "a red tile", "green", "blue", "grey"]}).to_csv(csv, index=False)
    df = pairs_from_folder(tmp_path, csv)
    assert df.image_id.tolist() == [0, 0, 1, 2, 3] and df.groupby("image_id").split.nunique().eq(1).all()
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
    df = ensure_splits(pd.DataFrame({"image": [png(c) for c in range(20)], "caption": ["x"] * 20}))
    assert df.image_id.tolist() == list(range(20)) and set(df.split) == {"train", "val", "test"}


def test_missing_ids_group_identical_image_bytes(png, capsys):
    df = ensure_splits(pd.DataFrame({"image": [png(c // 3) for c in range(30)], "caption": [str(c) for c in range(30)]}))
    assert df.image_id.tolist() == [c // 3 for c in range(30)] and df.groupby("image_id").split.nunique().eq(1).all()
    assert "10 images for 30 captions" in capsys.readouterr().out


def test_small_sets_keep_a_gallery_and_a_training_set(capsys):
    five = assign_splits(pd.DataFrame({"image_id": range(5), "caption": ["c"] * 5}))
    assert five.split.value_counts().to_dict() == {"train": 3, "test": 2}
    assert "holding out 2 as the test gallery and 0 for validation, leaving 3" in capsys.readouterr().out
    with pytest.raises(PairsError, match="at least 4 images"):
        assign_splits(pd.DataFrame({"image_id": [0, 0, 1, 2], "caption": ["c"] * 4}))


def split_table(png, splits: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"image": [png(i) for i in range(len(splits))], "caption": ["c"] * len(splits),
                         "image_id": range(len(splits)), "split": splits})


def test_a_split_without_test_rows_uses_val_or_holds_out_train(png, capsys):
    df = ensure_splits(split_table(png, ["train"] * 8 + ["val"] * 3))
    assert df.split.value_counts().to_dict() == {"train": 8, "test": 3}
    assert "using its val images as the test gallery" in capsys.readouterr().out
    df = ensure_splits(split_table(png, ["train"] * 30), seed=1)
    assert df.split.value_counts().to_dict() == {"train": 27, "test": 3}
    assert df.equals(ensure_splits(split_table(png, ["train"] * 30), seed=1))
    assert "holding out 3 of its 30 training images" in capsys.readouterr().out


@pytest.mark.parametrize("splits,msg", [(["train"] * 3, "1 training and 2 test images.*at least 2"),
                                        (["train"] + ["test"] * 5, "1 training and 5 test"),
                                        (["train"] * 5 + ["test"], "5 training and 1 test")])
def test_too_few_images_in_a_given_split_is_named(png, splits, msg):
    with pytest.raises(PairsError, match=msg):
        ensure_splits(split_table(png, splits))


def test_an_image_in_two_splits_is_named(png):
    df = split_table(png, ["train", "train", "test", "test"]).assign(image_id=[0, 1, 1, 2])
    with pytest.raises(PairsError, match="image_id 1 has captions in several splits"):
        ensure_splits(df)
