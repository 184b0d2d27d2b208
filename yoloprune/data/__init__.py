"""Data: the dataset registry (``registry``), the offline ``shapes`` generator (``shapes``) and the
loaders that read a dataset with Ultralytics' own code (``loaders``)."""

from .registry import UnknownDatasetError, dataset_recipe, load_registry, resolve_dataset
from .shapes import CLASS_NAMES, generate_shapes

__all__ = ["CLASS_NAMES", "UnknownDatasetError", "dataset_recipe", "generate_shapes", "load_registry",
           "resolve_dataset"]
