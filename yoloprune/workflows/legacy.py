"""The verbs' older call shape, still accepted: ``verb(model, data, config)`` (data second, positional) became
``verb(model, config, data=...)`` like every other verb; the old order works, with a DeprecationWarning."""

from __future__ import annotations

import os
import warnings

from ..errors import ConfigError


def config_and_data(verb: str, config, rest: tuple, data):
    """``(config, data)`` from a verb's ``config`` slot, any further positional arguments and ``data=``."""
    if not isinstance(config, (str, os.PathLike)):
        if rest:
            raise ConfigError(f"{verb}(model, config, ...) takes no more positional arguments: give data=... as a "
                              "keyword")
        return config, data
    if data is not None:
        raise ConfigError(f"{verb}: data given twice ({config!r} and data={data!r}): call {verb}(model, data=...)")
    if len(rest) > 1:
        raise ConfigError(f"{verb}(model, data, config) takes one config: got {len(rest)} more positional arguments")
    warnings.warn(f"{verb}(model, data, config) is deprecated: call {verb}(model, config, data=...)",
                  DeprecationWarning, stacklevel=3)
    return (rest[0] if rest else None), config
