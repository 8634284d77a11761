import pandas as pd
import pytest

from utils.data import PairsError, generate_world, load_pairs, save_pairs, world_pairs


@pytest.fixture()
def good() -> pd.DataFrame:
    return world_pairs(generate_world(10, seed=0))


def test_round_trip(tmp_path, good):
    df = load_pairs(save_pairs(good, tmp_path / "pairs.parquet"))
    assert list(df.caption) == list(good.caption)


def write(tmp_path, df) -> str:
    path = tmp_path / "pairs.parquet"
    df.to_parquet(path)
    return path


def test_missing_column_is_named(tmp_path, good):
    with pytest.raises(PairsError, match=r"missing column\(s\) \['caption'\]"):
        load_pairs(write(tmp_path, good.drop(columns="caption")))


def test_empty_caption_names_row_and_column(tmp_path, good):
    good.loc[3, "caption"] = "  "
    with pytest.raises(PairsError, match="row 3, column 'caption'"):
        load_pairs(write(tmp_path, good))


def test_unreadable_image_names_row(tmp_path, good):
    good.at[2, "image"] = b"not an image"
    with pytest.raises(PairsError, match="row 2, column 'image' is not a readable image.*Re-encode"):
        load_pairs(write(tmp_path, good))


def test_path_instead_of_bytes(tmp_path, good):
    df = good.assign(image="photos/cat.jpg")
    with pytest.raises(PairsError, match="holds str, not bytes.*read_bytes"):
        load_pairs(write(tmp_path, df))


def test_empty_file(tmp_path, good):
    with pytest.raises(PairsError, match="has no rows"):
        load_pairs(write(tmp_path, good.iloc[:0]))


def test_bad_split_value(tmp_path, good):
    good.loc[0, "split"] = "training"
    with pytest.raises(PairsError, match=r"\['training'\]"):
        load_pairs(write(tmp_path, good))


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(PairsError, match="does not exist"):
        load_pairs(tmp_path / "nope.parquet")
    (tmp_path / "bad.parquet").write_text("hello")
    with pytest.raises(PairsError, match="not a readable parquet file"):
        load_pairs(tmp_path / "bad.parquet")


def test_grayscale_and_jpeg_images_load_as_rgb(tmp_path, good):
    import io

    from PIL import Image

    from utils.data import decode_image
    buf = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buf, format="JPEG")
    assert decode_image(buf.getvalue()).mode == "RGB"


def encoded(img, fmt: str, **kw) -> bytes:
    import io
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_odd_images_decode_as_a_viewer_shows_them():
    import numpy as np
    from PIL import Image

    from utils.data import decode_image
    clear = Image.new("RGBA", (6, 4), (255, 0, 0, 0))  # fully transparent red: a viewer shows the page
    assert decode_image(encoded(clear, "PNG")).getpixel((0, 0)) == (255, 255, 255)
    grey16 = Image.fromarray(np.full((4, 6), 128 * 257, dtype=np.uint16))
    assert decode_image(encoded(grey16, "PNG")).getpixel((0, 0)) == (128, 128, 128)
    cmyk = decode_image(encoded(Image.new("CMYK", (6, 4), (0, 255, 255, 0)), "JPEG")).getpixel((0, 0))
    assert cmyk[0] > 200 and cmyk[1] < 50
    gif = Image.new("P", (6, 4), 0)
    gif.putpalette([0, 0, 255] * 256)
    assert decode_image(encoded(gif, "GIF")).getpixel((0, 0)) == (0, 0, 255)
    assert decode_image(encoded(Image.new("RGB", (1, 1), "red"), "PNG")).size == (1, 1)


def test_phone_photos_are_turned_upright():
    from PIL import Image

    from utils.data import decode_image
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    assert decode_image(encoded(Image.new("RGB", (40, 30)), "JPEG", exif=exif)).size == (30, 40)


def test_an_image_too_large_to_decode_safely_says_to_downscale(monkeypatch):
    from PIL import Image

    from utils.data import decode_image
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    with pytest.raises(PairsError, match="too large to decode safely.*Downscale"):
        decode_image(encoded(Image.new("RGB", (40, 30)), "PNG"), where="row 4")
