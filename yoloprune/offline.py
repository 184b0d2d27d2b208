"""Keep Ultralytics off the network and out of the user's home config.

Call :func:`configure` before the first ``import ultralytics`` (every yoloprune entry point does).
It only sets environment defaults (``YOLO_OFFLINE=1``, ``YOLO_CONFIG_DIR``) and, once Ultralytics is
imported, places a bundled TTF as ``Arial.ttf`` so ``check_font`` never downloads one. It also keeps
OpenVINO's model converter quiet: ``ov.convert_model`` (behind every OpenVINO export) posts usage
events to Google Analytics and writes ``~/intel/*`` unless CI is set or an opt-out file exists; while
offline, yoloprune hides the ``openvino_telemetry`` package from this process, which makes OpenVINO
use its built-in no-op stub (its path for when that package is not installed). Importing yoloprune
itself does none of this.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

_FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")
USER_THREADS: str | None = None  # OMP_NUM_THREADS as the user set it ("" = unset), before Ultralytics changed it


def yoloprune_home() -> Path:
    """Folder for yoloprune's caches: generated datasets and Ultralytics' config (``$YOLOPRUNE_HOME``)."""
    return Path(os.environ.get("YOLOPRUNE_HOME") or Path.home() / ".cache" / "yoloprune").expanduser()


def configure() -> Path:
    """Switch Ultralytics to offline mode with a private config dir; return that config dir.

    Idempotent. Values the user already exported (``YOLO_OFFLINE=0``, their own ``YOLO_CONFIG_DIR``)
    win over these defaults.
    """
    global USER_THREADS  # noqa: PLW0603
    if USER_THREADS is None and "ultralytics" not in sys.modules:  # Ultralytics' import sets OMP_NUM_THREADS=1
        USER_THREADS = os.environ.get("OMP_NUM_THREADS", "")
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(yoloprune_home() / "ultralytics"))
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")  # never pip-install at run time
    os.environ.setdefault("MPLCONFIGDIR", str(yoloprune_home() / "matplotlib"))  # plots' font cache, not ~/.config
    # NNCF (OpenVINO INT8 calibration) posts usage telemetry to Google Analytics unless ~/intel holds an opt-out
    # file; NNCF_CI is its own switch to a no-op telemetry stub (it changes nothing else in NNCF 3.x)
    os.environ.setdefault("NNCF_CI", "1")
    if os.environ["YOLO_OFFLINE"] != "0":
        _hide_openvino_telemetry()
    from ultralytics.utils import SETTINGS, USER_CONFIG_DIR  # noqa: PLC0415 (after the env is set)

    _place_font(Path(USER_CONFIG_DIR))
    if SETTINGS.get("sync"):
        SETTINGS.update(sync=False)  # no analytics events
    return Path(USER_CONFIG_DIR)


def _hide_openvino_telemetry() -> None:
    """``import openvino_telemetry`` raises ImportError from now on, so OpenVINO's converter takes its stub."""
    if "openvino.tools.ovc" in sys.modules and sys.modules.get("openvino_telemetry") is not None:
        from ultralytics.utils import LOGGER  # noqa: PLC0415

        LOGGER.warning("yoloprune: OpenVINO's converter was imported before yoloprune.offline.configure(): "
                       "its usage telemetry stays on in this process")
        return
    sys.modules["openvino_telemetry"] = None  # Python's documented way to make an import fail


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
