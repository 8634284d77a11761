"""Data for the labs: the procedural world and the `pairs.parquet` contract."""
from .convert import assign_splits, ensure_splits, pairs_from_folder, pairs_from_hub, pairs_from_table
from .pairs import (PairsError, decode_image, hub_pairs_file, load_pairs, save_pairs, validate_pairs, world_pairs,
                    world_pairs_file)
from .tensors import ImageCaptionSet, load_splits
from .world import COLORS, DOMAIN_COLORS, DOMAIN_SHAPES, SHAPES, WORLDS, Scene, WorldObject, generate_world

__all__ = ["COLORS", "DOMAIN_COLORS", "DOMAIN_SHAPES", "SHAPES", "WORLDS", "assign_splits", "ensure_splits", "pairs_from_folder",
           "pairs_from_hub", "pairs_from_table", "ImageCaptionSet", "PairsError", "Scene", "WorldObject", "decode_image",
           "generate_world", "hub_pairs_file", "load_pairs", "load_splits", "save_pairs", "validate_pairs", "world_pairs", "world_pairs_file"]

# World v3 for the generative labs; the rest from its modules, e.g. `from utils.data.scene_world import Scene`
from .scene_world import SCENE_WORLD_VERSION, generate_scenes, scene_pairs, scene_pairs_file, world_text

__all__ += ["SCENE_WORLD_VERSION", "generate_scenes", "scene_pairs", "scene_pairs_file", "world_text"]
