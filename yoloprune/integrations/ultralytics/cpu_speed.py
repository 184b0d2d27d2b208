"""CPU training speed: every core, and channels-last (NHWC) convolutions.

Ultralytics trains on ``cpu_count - 1`` threads (one core left to data-loader workers) even with
``workers=0``, when the loader runs in the training process: on a 2-core machine that is half the
machine. With ``workers=0`` and no ``OMP_NUM_THREADS`` of the user's, training here uses all cores.

Ultralytics switches a model to ``channels_last`` only on CUDA (its trainer ignores the option on the
CPU, judging it of "no benefit" there). On the CPUs this project targets, oneDNN's NHWC kernels are
faster for YOLO's small convolutions: forward + backward of yolov8n at 320 px, batch 8, took 11 % less
time than NCHW on the same 2 threads (``benchmarks/cpu_training_speed.py`` measures both side by side;
a whole shapes epoch: 52.5 s with ``ultralytics.YOLO``'s defaults, 26.6 s with ``yoloprune.YOLO``).
Numerics are the same convolutions in another memory order; checkpoints stay NCHW (Ultralytics
serialises contiguous copies).

``callbacks`` is an Ultralytics-style ``{event: fn}`` dict; :func:`add_cpu_training_speed` registers
it once. ``yoloprune.YOLO``'s trainer registers it by itself.
"""

from __future__ import annotations

import os

import torch
from ultralytics.utils.torch_utils import unwrap_model

from ... import offline

NHWC_ATTR = "_yoloprune_nhwc"  # set on a trainer whose model trains channels-last on the CPU


def usable_cores() -> int:
    """Cores this process may run on (affinity / container limits), not the host's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def cpu_threads(workers: int) -> int | None:
    """Threads to train with on the CPU: the user's OMP_NUM_THREADS, else every core when no loader workers run."""
    user = offline.USER_THREADS
    if user is None:  # Ultralytics was imported first: its own default is "1", anything else is the user's
        user = os.environ.get("OMP_NUM_THREADS", "")
        user = "" if user == "1" else user
    if user:
        return int(user) if user.isdigit() else None
    return usable_cores() if workers == 0 else None


def cpu_training_speed(trainer) -> None:
    """On the CPU: use the cores the loader does not need, and train channels-last (CUDA: Ultralytics' own option)."""
    if trainer.device.type != "cpu":
        if _is_nhwc(trainer):  # Ultralytics' own channels_last on CUDA: keep it after prune steps too
            setattr(trainer, NHWC_ATTR, True)
        return
    threads = cpu_threads(int(trainer.args.workers or 0))
    if threads:
        torch.set_num_threads(threads)
    to_channels_last(trainer)


def to_channels_last(trainer) -> None:
    """Put the trainer's model in NHWC order (in place)."""
    # in place (param.data is replaced, Parameter objects stay): the optimizer keeps its tensors. ModelEMA caches
    # (ema, model) tensor pairs at its first update, so this must run before that: at on_pretrain_routine_end, and
    # after a prune step before the EMA is rebuilt (surgery.rebuild_after_prune)
    unwrap_model(trainer.model).to(memory_format=torch.channels_last)
    if getattr(trainer, "ema", None) is not None:
        trainer.ema._pairs = None  # rebuilt from the current tensors at the next update
    setattr(trainer, NHWC_ATTR, True)


def _is_nhwc(trainer) -> bool:
    convs = [m for m in unwrap_model(trainer.model).modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (1, 1)]
    return bool(convs) and convs[0].weight.is_contiguous(memory_format=torch.channels_last)


def keep_channels_last(trainer) -> None:
    """Re-apply NHWC after something replaced the model's tensors (a prune step)."""
    if getattr(trainer, NHWC_ATTR, False):
        to_channels_last(trainer)


callbacks = {"on_pretrain_routine_end": cpu_training_speed}


def add_cpu_training_speed(model) -> None:
    """Register :data:`callbacks` on a ``YOLO`` model or a trainer, once (registering again is a no-op)."""
    for event, fn in callbacks.items():
        if fn not in model.callbacks.get(event, []):
            model.add_callback(event, fn)
