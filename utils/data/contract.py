"""What the course's data contracts (`pairs.parquet`, `vqa.parquet`, `objects.parquet`) share: their errors, the
checks every table gets (`check_table`) and the decoding of a stored image (`decode_image`)."""
from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from PIL import Image, ImageOps, UnidentifiedImageError

SPLITS = ("train", "val", "test")


class ContractError(ValueError):
    """A table breaks its data contract; the message names the source, the row, the column and the fix."""


class PairsError(ContractError):
    """A `pairs.parquet` file breaks the data contract; the message names the row, column and fix."""


class VQAError(ContractError):
    """A `vqa.parquet` table breaks the contract; the message names the row, the column and the fix."""


class ObjectsError(ContractError):
    """An objects table breaks the contract; the message names the row, column and fix."""


def check_table(df: pd.DataFrame, source: str, required: Sequence[str], error: type[ContractError], needs: str,
                unit: str) -> None:
    """Raise `error` unless `df` has the `required` columns (`needs` says what they hold), at least one row (a
    `unit`, e.g. "question"), only train/val/test in its `split` column if it has one, and a decodable `image`
    in every row (each distinct image decoded once)."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise error(f"{source}: missing column(s) {missing}; found {list(df.columns)}. {needs}")
    if len(df) == 0:
        raise error(f"{source}: has no rows. Add at least one {unit}.")
    if "split" in df.columns:
        known = df["split"].isin(SPLITS).to_numpy()
        if not known.all():
            bad = sorted(set(df["split"][~known]), key=str)
            raise error(f"{source}: column 'split' has values {bad} (first in row {int(np.argmin(known))}); "
                        f"use only {list(SPLITS)}.")
    decoded: set[bytes] = set()
    for row, image in enumerate(df["image"]):
        if isinstance(image, bytes):
            if image in decoded:
                continue
            decoded.add(image)
        decode_image(image, where=f"{source}: row {row}, column 'image'", error=error)


def decode_image(data: bytes, where: str = "image", error: type[ContractError] = PairsError) -> Image.Image:
    """Decode encoded image bytes to RGB as a viewer shows them, or raise `error` saying where and how to fix it.

    Phone photos are turned upright (EXIF orientation), transparent pixels are laid on white, 16-bit grey
    is scaled to 8 bits, CMYK and palette images are converted; an animated GIF gives its first frame.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise error(f"{where} holds {type(data).__name__}, not bytes. Store the encoded file, "
                    "e.g. Path('cat.jpg').read_bytes(), not a path or an array.")
    try:
        return to_rgb(Image.open(io.BytesIO(data)))
    except Image.DecompressionBombError as err:
        raise error(f"{where} is too large to decode safely ({err}). Downscale it, e.g. to 1024 pixels a side; "
                    "CLIP sees it at 224 or less anyway.") from None
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise error(f"{where} is not a readable image ({err}). Re-encode it as PNG or JPEG.") from None


def to_rgb(img: Image.Image) -> Image.Image:
    """An 8-bit RGB copy of any PIL image, upright, with transparency flattened onto white."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I", "I;16", "I;16B", "I;16L"):  # 16-bit grey: 65535 is white
        img = Image.fromarray((np.asarray(img, dtype=np.float32) / 257).clip(0, 255).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        img = img.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", img.size, "white"), img).convert("RGB")
    return img.convert("RGB")
