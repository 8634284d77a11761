import pytest
import torch

from utils.models.clip import create_clip, encode_texts
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


def test_conv_stem_replaces_the_patch_cut_with_the_same_output_shape():
    from torch import nn

    from utils.models.clip import conv_stem
    stem, cut = conv_stem(192, 8), nn.Conv2d(3, 192, 8, stride=8)
    x = torch.randn(2, 3, 64, 64)
    assert stem(x).shape == cut(x).shape == (2, 192, 8, 8)
    assert sum(isinstance(m, nn.Conv2d) for m in stem) == 3
    with pytest.raises(ValueError, match="power-of-two patch size"):
        conv_stem(192, 12)


def test_conv_stem_checkpoint_reloads_with_identical_image_embeddings(tmp_path):
    torch.manual_seed(0)
    model, _, _ = create_clip("WorldCLIP-Tiny-ConvStem")
    assert isinstance(model.visual.conv1, torch.nn.Sequential)
    torch.save(model.state_dict(), tmp_path / "ckpt.pt")
    reloaded, _, _ = create_clip("WorldCLIP-Tiny-ConvStem", str(tmp_path / "ckpt.pt"))
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model.encode_image(x), reloaded.encode_image(x))
