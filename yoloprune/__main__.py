"""The ``yolo-prune`` entry point (and ``python -m yoloprune``): the environment first, then the CLI.

Ultralytics reads its config dir and online state when it is first imported, and the CLI imports it,
so the demo's offline environment (and the ``YOLOPRUNE_OFFLINE=1`` opt-in) is put in place here,
before ``yoloprune.cli`` is imported. Nothing else in the package sets up an environment.
"""

from __future__ import annotations

import sys

from . import offline


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"] or offline.requested():
        offline.set_environment()
    from .cli import main as cli_main  # noqa: PLC0415 (after the environment: this import loads Ultralytics)

    return cli_main(argv)


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
