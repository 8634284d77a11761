import numpy as np

from utils.data.categories import WORLD_CATEGORIES, world_category_images
from utils.data.world import DOMAIN_COLORS


def test_world_categories_are_balanced_and_show_their_colour():
    images, labels = world_category_images(n_per_class=5, seed=1)
    assert len(images) == 50 and labels.bincount().tolist() == [5] * 10
    for image, label in zip(images, labels):
        color = DOMAIN_COLORS[WORLD_CATEGORIES[label].split()[0]]
        assert (np.asarray(image).reshape(-1, 3) == color).all(axis=1).any()


def test_neither_colour_nor_shape_alone_names_a_category():
    colors = [c.split()[0] for c in WORLD_CATEGORIES]
    shapes = [c.split()[1] for c in WORLD_CATEGORIES]
    assert all(colors.count(c) == 2 for c in colors)
    assert sum(shapes.count(s) == 2 for s in shapes) >= 8 and len(set(WORLD_CATEGORIES)) == 10
