"""User-facing errors: each carries one message that names the fix. The CLI prints them without a traceback."""


class YoloPruneError(Exception):
    """Base class for errors caused by the user's input (bad config, file, model, dataset)."""


class ConfigError(YoloPruneError, ValueError):
    """An option has a value outside its allowed range or of the wrong type."""


class UnsupportedModelError(YoloPruneError):
    """The model's task or architecture cannot be pruned by yoloprune."""


class CheckpointError(YoloPruneError):
    """A checkpoint is missing, truncated or not an Ultralytics checkpoint."""
