import io
import os

import pytest
import torch
from PIL import Image


@pytest.fixture
def png():
    """A function that returns an encoded 8x8 PNG of one colour."""
    def encode(color) -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), color).save(buf, format="PNG")
        return buf.getvalue()
    return encode


def pytest_configure(config):
    """One torch thread per test worker when the suite runs on several (artefact builders fix their own)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
