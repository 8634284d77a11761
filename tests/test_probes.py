import numpy as np
import pytest

from utils.data.probes import bag_of_words, faded_image, faded_objects, foil_captions, world_prompts
from utils.data.world import PALETTE, SIZES, WorldObject


def test_faded_image_blends_the_colour_into_the_grey():
    o = WorldObject("square", "red", "large", 0.5, 0.5)
    pixels = np.asarray(faded_image(o, contrast=0.25, background=200, side=64)).astype(float)
    expected = 0.25 * np.asarray(PALETTE["red"]) + 0.75 * 200
    assert np.allclose(pixels[32, 32], expected.round())
    assert (pixels[0, 0] == 200).all()
    full = np.asarray(faded_image(o, contrast=1.0, background=50))
    assert tuple(full[32, 32]) == PALETTE["red"]


def test_faded_objects_are_deterministic_and_inside_the_frame():
    images, objects = faded_objects(40, seed=3, side=32)
    again, same = faded_objects(40, seed=3, side=32)
    assert objects == same and all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(images, again))
    assert faded_objects(40, seed=4, side=32)[1] != objects
    assert all(img.size == (32, 32) for img in images)
    assert all(SIZES[o.size] < o.x < 1 - SIZES[o.size] and SIZES[o.size] < o.y < 1 - SIZES[o.size]
               for o in objects)


@pytest.mark.parametrize("contrast", [(0.0, 0.5), (0.6, 0.3), (0.5, 1.5)])
def test_a_contrast_outside_the_unit_interval_is_an_error(contrast):
    with pytest.raises(ValueError, match="fraction of colour kept"):
        faded_objects(2, seed=0, contrast=contrast)


def test_foils_swap_the_binding_or_the_relation():
    objects = [{"shape": "square", "color": "blue", "x": 0.7}, {"shape": "circle", "color": "orange", "x": 0.2}]
    assert foil_captions(objects) == {
        "true": "an orange circle to the left of a blue square",
        "binding swap": "a blue circle to the left of an orange square",
        "relation swap": "a blue square to the left of an orange circle",
    }


def test_foils_have_the_same_bag_of_words_as_the_truth():
    captions = foil_captions([{"shape": "triangle", "color": "red", "x": 0.1},
                              {"shape": "diamond", "color": "yellow", "x": 0.9}])
    assert len(set(captions.values())) == 3
    assert len({bag_of_words(c) for c in captions.values()}) == 1
    assert bag_of_words("b a c a") == "a a b c"


def test_world_prompts_vary_everything_but_the_colour_in_the_same_order_for_every_colour():
    prompts = world_prompts(["red", "orange"], shapes=("circle", "square"))
    red, orange = prompts
    assert len(red) == len(orange) == len(set(red)) == 12  # 2 shapes x (2 sizes x 2 + 2 size-free phrasings)
    assert red[:4] == ["a small red circle", "a red circle on its own", "a picture of one red circle",
                       "there is a small red circle"]
    assert [s.replace("an orange", "a red").replace("orange", "red") for s in orange] == red
    assert {"circle", "square", "small", "large"} <= set(" ".join(red).split())
