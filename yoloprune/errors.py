"""User-facing errors: each carries one message that names the fix. The CLI prints them without a traceback."""


class YoloPruneError(Exception):
    """Base class for errors caused by the user's input (bad config, file, model, dataset)."""


class ConfigError(YoloPruneError, ValueError):
    """An option has a value outside its allowed range or of the wrong type."""


class UnreachableTargetError(ConfigError):
    """A latency target the model cannot reach within its floors (``min_channels``, ``max_layer_ratio``) or its
    latency table; the message says which layers stop it."""


class UnsupportedModelError(YoloPruneError):
    """The model's task or architecture cannot be pruned by yoloprune."""


class CheckpointError(YoloPruneError):
    """A checkpoint is missing, truncated or not an Ultralytics checkpoint."""


class OutputWriteError(YoloPruneError, OSError):
    """An output file could not be written (disk full, quota, read-only folder); the previous file is intact."""

    @classmethod
    def wrap(cls, path, error: OSError) -> "OutputWriteError":
        reason = error.strerror or str(error)
        return cls(f"could not write {path}: {reason}. Nothing was replaced (any previous file is intact): "
                   "free disk space or choose another project= folder, then run again")
