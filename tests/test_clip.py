import pytest
import torch

from utils.clip import create_clip, encode_texts
from utils.profiles import PROFILES


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="check the path"):
        create_clip("WorldCLIP-Tiny", str(tmp_path / "missing.pt"))


def test_saved_checkpoint_reloads_through_open_clip(tmp_path):
    torch.manual_seed(0)
    model, _, tokenizer = create_clip("WorldCLIP-Tiny")
    torch.save(model.state_dict(), tmp_path / "ckpt.pt")
    reloaded, _, _ = create_clip("WorldCLIP-Tiny", str(tmp_path / "ckpt.pt"))
    texts = ["a red circle", "two blue squares"]
    a, b = (encode_texts(m, tokenizer, texts, PROFILES["offline"]) for m in (model, reloaded))
    assert torch.equal(a, b)
    assert torch.allclose(a.norm(dim=-1), torch.ones(2))
