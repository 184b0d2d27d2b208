"""Offline mode: an explicit opt-in for the demo, the test suite and air-gapped users.

Library use leaves a user's process alone: Ultralytics keeps *their* settings (``datasets_dir``,
``runs_dir``, integrations), config dir, online state and environment. :func:`configure` is called
only where offline is the promise: the demo, the test suite and benchmark scripts, or any entry point
when ``YOLOPRUNE_OFFLINE=1`` is set (:func:`configure_if_requested`). It sets ``YOLO_OFFLINE=1``, a
private ``YOLO_CONFIG_DIR`` under ``$YOLOPRUNE_HOME`` and places a bundled TTF as ``Arial.ttf`` so
``check_font`` never downloads one; it must run before the first ``import ultralytics``.

Offline, Ultralytics' AMP check (CUDA trainings) is kept from trying to download its reference model
(:func:`_offline_amp_check`). What library calls do change, only for their own duration: telemetry opt-outs
(:func:`no_telemetry`) around OpenVINO/NNCF exports, which change nothing else.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import threading
from pathlib import Path

_FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")
# OMP_NUM_THREADS as the user set it ("" = unset), read (never written) when yoloprune is imported before
# Ultralytics, whose import sets it to 1; None when Ultralytics came first
USER_THREADS: str | None = os.environ.get("OMP_NUM_THREADS", "") if "ultralytics" not in sys.modules else None
OPT_IN = "YOLOPRUNE_OFFLINE"


def yoloprune_home() -> Path:
    """Folder for yoloprune's caches: generated datasets and, offline, Ultralytics' config (``$YOLOPRUNE_HOME``)."""
    return Path(os.environ.get("YOLOPRUNE_HOME") or Path.home() / ".cache" / "yoloprune").expanduser()


def requested() -> bool:
    """True when the user opted in to offline mode with ``YOLOPRUNE_OFFLINE=1``."""
    return os.environ.get(OPT_IN, "").strip().lower() in {"1", "true", "yes", "on"}


def configure_if_requested() -> Path | None:
    """:func:`configure` when ``YOLOPRUNE_OFFLINE=1``, else nothing (library entry points call this)."""
    return configure() if requested() else None


def configure() -> Path:
    """Switch Ultralytics to offline mode with a private config dir; return that config dir.

    Idempotent. Values the user already exported (``YOLO_OFFLINE=0``, their own ``YOLO_CONFIG_DIR``)
    win over these defaults. Only the demo, the tests, benchmarks and the ``YOLOPRUNE_OFFLINE=1``
    opt-in call it.
    """
    if "ultralytics" in sys.modules and "YOLO_CONFIG_DIR" not in os.environ:
        from ultralytics.utils import LOGGER  # noqa: PLC0415

        LOGGER.warning("yoloprune: offline mode was asked for after Ultralytics was imported: Ultralytics keeps "
                       "its online state and config dir in this process (set YOLOPRUNE_OFFLINE=1 before importing it)")
    set_environment()
    from ultralytics.utils import SETTINGS, USER_CONFIG_DIR  # noqa: PLC0415 (after the env is set)

    _place_font(Path(USER_CONFIG_DIR))
    _offline_amp_check()
    if SETTINGS.get("sync") and Path(USER_CONFIG_DIR).resolve().is_relative_to(yoloprune_home().resolve()):
        SETTINGS.update(sync=False)  # no analytics events; only ever in yoloprune's own private settings
    return Path(USER_CONFIG_DIR)


def set_environment() -> None:
    """The offline environment defaults alone (stdlib only): what must be in place before Ultralytics' import.

    ``import yoloprune`` calls it when ``YOLOPRUNE_OFFLINE=1``, so importing any submodule directly
    (``yoloprune.callbacks``, ``yoloprune.core.prune``) is offline too.
    """
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(yoloprune_home() / "ultralytics"))
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")  # never pip-install at run time
    os.environ.setdefault("MPLCONFIGDIR", str(yoloprune_home() / "matplotlib"))  # plots' font cache, not ~/.config
    os.environ.setdefault("NNCF_CI", "1")  # NNCF's own switch to its no-op telemetry stub
    if os.environ["YOLO_OFFLINE"] != "0":
        sys.modules.setdefault("openvino_telemetry", None)


def _refuse_download(*args, **kwargs):
    raise ConnectionError("offline (YOLO_OFFLINE=1): no download attempted")


_AMP_LOCK = threading.Lock()  # one swap of Ultralytics' download function at a time


def guard_amp_check_if_requested(trainer=None) -> None:
    """:func:`_offline_amp_check` when ``YOLOPRUNE_OFFLINE=1``: called by yoloprune's trainer and by the pruning and
    distillation callbacks (on a stock trainer) when a training starts, so a user's own ``YOLO.train()`` and
    Ultralytics' DDP workers, where :func:`configure` never ran, are covered too."""
    if requested():
        _offline_amp_check()


def _ultralytics_offline() -> bool:
    """``YOLO_OFFLINE`` read the way Ultralytics reads it (its ``env_bool`` where it has one)."""
    try:
        from ultralytics.utils import env_bool  # noqa: PLC0415
    except ImportError:
        return os.environ.get("YOLO_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on", "y", "t"}
    return env_bool("YOLO_OFFLINE")


def _offline_amp_check() -> None:
    """Offline, Ultralytics' AMP check (trainings on CUDA with ``amp=True``) still tries to download ``yolo26n.pt``
    to compare FP32 with AMP outputs: a DNS look-up of github.com even with ``YOLO_OFFLINE=1``. Wrap it so that,
    while Ultralytics counts itself offline (its own ``env_bool("YOLO_OFFLINE")``), that download fails at once
    without touching the network: Ultralytics then takes its own offline path (its warning, AMP kept on) and keeps
    everything else (its GPU deny-list, a local ``yolo26n.pt`` if there is one). Online, the check is untouched.
    Called by :func:`configure` and, under the opt-in, by the callbacks."""
    from ultralytics.utils import checks  # noqa: PLC0415

    original = checks.check_amp
    if not getattr(original, "yoloprune_offline", False):

        @functools.wraps(original)
        def check_amp(*args, **kwargs):
            from ultralytics.utils import downloads  # noqa: PLC0415

            if not _ultralytics_offline():
                return original(*args, **kwargs)
            with _AMP_LOCK:
                real, downloads.safe_download = downloads.safe_download, _refuse_download
                try:
                    return original(*args, **kwargs)
                finally:
                    downloads.safe_download = real

        check_amp.yoloprune_offline = True
        checks.check_amp = check_amp
    trainer = sys.modules.get("ultralytics.engine.trainer")  # bound its own name when it was imported
    if trainer is not None and trainer.check_amp is getattr(checks.check_amp, "__wrapped__", None):  # Ultralytics' own
        trainer.check_amp = checks.check_amp


@contextlib.contextmanager
def no_telemetry():
    """For the block: OpenVINO's converter and NNCF use their no-op telemetry stubs; then all is given back.

    ``ov.convert_model`` (behind every OpenVINO export) posts usage events to Google Analytics and
    writes ``~/intel/*`` unless CI is set; hiding ``openvino_telemetry`` makes it take its built-in
    stub (its path for when that package is not installed). NNCF (INT8 calibration) reads ``NNCF_CI``
    when first imported. Both bind their choice at import, so a module first imported here keeps the
    stub; nothing else in the process changes.
    """
    hid = "openvino_telemetry" not in sys.modules
    if hid:
        sys.modules["openvino_telemetry"] = None  # Python's documented way to make an import fail
    had_nncf_ci = os.environ.get("NNCF_CI")
    os.environ.setdefault("NNCF_CI", "1")
    try:
        yield
    finally:
        if hid and sys.modules.get("openvino_telemetry", 0) is None:
            del sys.modules["openvino_telemetry"]
        if had_nncf_ci is None:
            os.environ.pop("NNCF_CI", None)


def _place_font(config_dir: Path) -> None:
    """Copy matplotlib's DejaVuSans as the fonts Ultralytics' plotting asks for, if they are missing."""
    missing = [name for name in _FONT_NAMES if not (config_dir / name).exists()]
    if not missing:
        return
    import matplotlib  # noqa: PLC0415

    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    config_dir.mkdir(parents=True, exist_ok=True)
    for name in missing:
        tmp = config_dir / f".{name}.{os.getpid()}.tmp"  # concurrent processes (DDP ranks) each use their own
        shutil.copyfile(source, tmp)
        os.replace(tmp, config_dir / name)
