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
    """One CPU thread for torch in the tests and in the kernels nbval starts, as the committed solution outputs were
    executed (`OMP_NUM_THREADS=1 papermill ...`): two workers on two cores never oversubscribe them."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
