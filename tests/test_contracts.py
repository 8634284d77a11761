"""The three data contracts share their checks: each breach raises the contract's own error, a `ContractError`."""
import io

import pandas as pd
import pytest
from PIL import Image

from utils.data import ContractError, PairsError, generate_world, save_pairs, world_pairs
from utils.data.objects import ObjectsError, save_objects
from utils.data.scene_world import generate_scenes, render
from utils.data.vqa import VQAError, load_vqa, save_vqa, vqa_from_hub_table, world_vqa
from utils.data.world import png_bytes


def png(color: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, format="PNG")
    return buf.getvalue()


def pairs_table() -> pd.DataFrame:
    return world_pairs(generate_world(4, seed=0))


def vqa_table() -> pd.DataFrame:
    scenes = generate_scenes(2, seed=0)
    return world_vqa(scenes, [png_bytes(render(s, 16)) for s in scenes], ["train", "test"])


def objects_table() -> pd.DataFrame:
    return pd.DataFrame({"image": [png("red"), png("blue"), png("green")], "objects": [["dog"], [], ["cat", "dog"]],
                         "split": ["train", "val", "test"]})


# (good table, save, its error, a required column other than 'image', an unknown split)
CONTRACTS = {"pairs": (pairs_table, save_pairs, PairsError, "caption", "training"),
             "vqa": (vqa_table, save_vqa, VQAError, "answers", "training"),
             "objects": (objects_table, save_objects, ObjectsError, "objects", "dev")}


def raises_own(contract: str, df: pd.DataFrame, tmp_path) -> str:
    """The message of the error that saving `df` under `contract` raises, checked to be the contract's own."""
    _, save, error, _, _ = CONTRACTS[contract]
    with pytest.raises(ContractError) as caught:
        save(df, tmp_path / f"{contract}.parquet")
    assert type(caught.value) is error and isinstance(caught.value, ValueError)
    assert not (tmp_path / f"{contract}.parquet").exists()
    return str(caught.value)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_a_missing_column_is_named(contract, tmp_path):
    table, _, _, column, _ = CONTRACTS[contract]
    assert f"missing column(s) ['{column}']" in raises_own(contract, table().drop(columns=column), tmp_path)
    assert "missing column(s) ['image']" in raises_own(contract, table().drop(columns="image"), tmp_path)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_a_table_without_rows(contract, tmp_path):
    table = CONTRACTS[contract][0]
    assert "has no rows. Add at least one" in raises_own(contract, table().iloc[:0], tmp_path)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_an_unknown_split_is_named_with_the_allowed_ones(contract, tmp_path):
    table, _, _, _, split = CONTRACTS[contract]
    df = table()
    df.loc[1, "split"] = split
    message = raises_own(contract, df, tmp_path)
    assert f"column 'split' has values ['{split}'] (first in row 1)" in message
    assert "use only ['train', 'val', 'test']" in message


@pytest.mark.parametrize("contract", CONTRACTS)
def test_an_undecodable_image_raises_the_contracts_own_error(contract, tmp_path):
    df = CONTRACTS[contract][0]()
    df.at[1, "image"] = b"not an image"
    message = raises_own(contract, df, tmp_path)
    assert "row 1, column 'image' is not a readable image" in message and "Re-encode it as PNG or JPEG" in message


def test_answers_none_names_the_row_column_and_fix(tmp_path):
    df = vqa_table()
    df.at[1, "answers"] = None
    message = raises_own("vqa", df, tmp_path)
    assert "row 1, column 'answers' must be a non-empty list of the human answers" in message and "got None" in message
    df.to_parquet(tmp_path / "written.parquet")  # as a file written by hand, read back with a null list
    with pytest.raises(VQAError, match="row 1, column 'answers'.*got None"):
        load_vqa(tmp_path / "written.parquet")


def test_a_hub_table_without_vqa_columns_is_a_vqa_error():
    with pytest.raises(VQAError, match=r"columns \[.*'multiple_choice_answer'.*\] not found in the Hub table"):
        vqa_from_hub_table(pd.DataFrame({"image": [png("red")], "question": ["what?"]}), limit=1)
