"""Where labs keep what they build (world data, checkpoints); `VLM_CACHE` moves it."""
import os
from pathlib import Path

CACHE = Path(os.environ.get("VLM_CACHE", Path.home() / ".cache" / "vlm-course"))
