import pytest
import torch

from utils.data.scene_world import generate_scenes
from utils.models.clip import create_clip
from utils.offline.world_clip import appearance_labels, pretrain_image_tower, world_clip_model


def test_appearance_labels_mark_each_scenes_shapes_and_their_looks():
    scenes = generate_scenes(30, seed=4)
    labels, facts = appearance_labels(scenes)
    assert labels.shape == (30, len(facts)) and labels.sum(1).min() >= 4  # a shape and its colour, size, style
    for row, scene in zip(labels, scenes):
        on = {f for f, v in zip(facts, row) if v}
        assert on == {f for o in scene.objects for f in [(o.shape,), (o.shape, o.color), (o.shape, o.size),
                                                         (o.shape, o.style)]}


def test_image_tower_pretraining_learns_a_label_the_pixels_decide():
    torch.manual_seed(0)
    visual = create_clip("WorldCLIP-Micro")[0].visual
    red = torch.rand(32) < 0.5
    images = torch.zeros(32, 3, 32, 32)
    images[red, 0], images[~red, 2] = 1.0, 1.0  # red or blue squares
    losses = pretrain_image_tower(visual, images, red.float()[:, None], steps=40, lr=3e-3, weight_decay=0.0,
                                  batch_size=16)
    assert len(losses) == 40 and losses[0] > 0.5 and sum(losses[-5:]) / 5 < 0.1
    assert not visual.training


def test_each_world_names_its_architecture_and_unknown_worlds_are_named():
    assert world_clip_model("shapes") == "WorldCLIP-Tiny" and world_clip_model("scenes") == "WorldCLIP-Tiny-ConvStem"
    with pytest.raises(ValueError, match="unknown world 'v4'"):
        world_clip_model("v4")
