import pytest
import torch

from utils.data import ImageCaptionSet, generate_world, world_pairs
from utils.models.clip import create_clip
from utils.profiles import PROFILES
from utils.training.loops import fit_batch_size, param_groups, train_contrastive
from utils.training.losses import clip_loss


def test_no_weight_decay_on_temperature_gains_and_biases():
    model, _, _ = create_clip("WorldCLIP-Micro")
    names = {id(p): n for n, p in model.named_parameters()}
    no_decay, decay = ([names[id(p)] for p in g["params"]] for g in param_groups(model, 0.1))
    assert "logit_scale" in no_decay and all(".bias" not in n and "ln_" not in n for n in decay)
    assert any(n.endswith("attn.in_proj_weight") for n in decay)
    assert len(no_decay) + len(decay) == len(names)


def test_batch_shrinks_to_the_data_and_too_little_data_is_named(capsys):
    assert fit_batch_size(64, 30) == 30 and "using 30" in capsys.readouterr().out
    assert fit_batch_size(16, 30) == 16
    with pytest.raises(ValueError, match="at least 2 training images, got 1"):
        fit_batch_size(64, 1)


def test_training_on_fewer_images_than_a_batch_runs_and_logs_the_temperature():
    model, preprocess, tokenizer = create_clip("WorldCLIP-Micro")
    data = ImageCaptionSet(world_pairs(generate_world(5, seed=3), image_size=32, val_fraction=0, test_fraction=0),
                           preprocess, tokenizer)
    log = train_contrastive(model, data, clip_loss, PROFILES["offline"], epochs=2, lr=1e-3, batch_size=64)
    assert len(log) == 2 and len(log.temperature) == 2
    assert log.temperature[-1] == pytest.approx(1 / model.logit_scale.exp().item())


def test_locked_image_tower_keeps_its_weights_and_statistics_while_the_text_side_learns_and_sees_each_image_once():
    model, preprocess, tokenizer = create_clip("WorldCLIP-Tiny-ConvStem")
    data = ImageCaptionSet(world_pairs(generate_world(8, seed=3), image_size=64, val_fraction=0, test_fraction=0),
                           preprocess, tokenizer)
    image_before = {k: v.clone() for k, v in model.visual.state_dict().items()}
    text_before = model.text_projection.detach().clone()
    encoded = []
    model.visual.register_forward_hook(lambda module, args, out: encoded.append(len(args[0])))
    train_contrastive(model, data, clip_loss, PROFILES["offline"], epochs=3, lr=1e-3, batch_size=4,
                      lock_image_tower=True)
    assert sum(encoded) == len(data)  # three epochs, each image encoded once
    assert all(torch.equal(v, image_before[k]) for k, v in model.visual.state_dict().items())  # BN buffers too
    assert not torch.equal(model.text_projection, text_before)

