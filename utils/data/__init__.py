"""Data for the labs: the two procedural worlds and the `pairs.parquet` contract.

World v2 (`world`) serves Labs 1-5; world v3 (`scene_world`, with `scene_graph` and the caption `grammar`)
serves the generative labs, and `vqa` asks questions about its scenes (the `vqa.parquet` contract). Names
beyond these re-exports come from their modules, e.g. `from utils.data.scene_world import Scene`.
"""
from .contract import ContractError
from .convert import assign_splits, ensure_splits, pairs_from_folder, pairs_from_hub, pairs_from_table
from .pairs import (
                    PairsError,
                    decode_image,
                    hub_pairs_file,
                    load_pairs,
                    save_pairs,
                    validate_pairs,
                    world_pairs,
                    world_pairs_file,
)
from .scene_world import SCENE_WORLD_VERSION, generate_scenes, scene_pairs, scene_pairs_file, world_text
from .tensors import ImageCaptionSet, load_splits
from .world import COLORS, DOMAIN_COLORS, DOMAIN_SHAPES, SHAPES, WORLDS, Scene, WorldObject, generate_world

__all__ = ["COLORS", "DOMAIN_COLORS", "DOMAIN_SHAPES", "SCENE_WORLD_VERSION", "SHAPES", "WORLDS", "ContractError",
           "ImageCaptionSet", "PairsError", "Scene", "WorldObject", "assign_splits", "decode_image", "ensure_splits",
           "generate_scenes", "generate_world", "hub_pairs_file", "load_pairs", "load_splits", "pairs_from_folder",
           "pairs_from_hub", "pairs_from_table", "save_pairs", "scene_pairs", "scene_pairs_file", "validate_pairs",
           "world_pairs", "world_pairs_file", "world_text"]
