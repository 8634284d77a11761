"""Data for the labs: the procedural world and the `pairs.parquet` contract."""
from .pairs import PairsError, decode_image, load_pairs, save_pairs, validate_pairs, world_pairs, world_pairs_file
from .tensors import ImageCaptionSet, load_splits
from .world import COLORS, SHAPES, Scene, WorldObject, generate_world

__all__ = ["COLORS", "SHAPES", "ImageCaptionSet", "PairsError", "Scene", "WorldObject", "decode_image",
           "generate_world", "load_pairs", "load_splits", "save_pairs", "validate_pairs", "world_pairs", "world_pairs_file"]
