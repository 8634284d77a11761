import io

import pytest
from PIL import Image


@pytest.fixture
def png():
    """A function that returns an encoded 8x8 PNG of one colour."""
    def encode(color) -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), color).save(buf, format="PNG")
        return buf.getvalue()
    return encode
