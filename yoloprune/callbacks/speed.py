"""CPU training speed: every core, and channels-last (NHWC) convolutions.

Ultralytics trains on ``cpu_count - 1`` threads (one core left to data-loader workers) even with
``workers=0``, when the loader runs in the training process: on a 2-core machine that is half the
machine. With ``workers=0`` and no ``OMP_NUM_THREADS`` of the user's, training here uses all cores.

Ultralytics switches a model to ``channels_last`` only on CUDA (its trainer ignores the option on the
CPU, judging it of "no benefit" there). On the CPUs this project targets, oneDNN's NHWC kernels are
faster for YOLO's small convolutions: forward + backward of yolov8n at 320 px, batch 8, took 18 % less
time (``benchmarks/cpu_training_speed.py`` measures it side by side).
Numerics are the same convolutions in another memory order; checkpoints stay NCHW (Ultralytics
serialises contiguous copies).

``callbacks`` is an Ultralytics-style ``{event: fn}`` dict; :func:`add_cpu_training_speed` registers
it once. ``yoloprune.YOLO``'s trainer registers it by itself.
"""

from __future__ import annotations

import os

import torch

NHWC_ATTR = "_yoloprune_nhwc"  # set on a trainer whose model trains channels-last on the CPU


def cpu_threads(workers: int) -> int | None:
    """Threads to train with on the CPU: the user's OMP_NUM_THREADS, else every core when no loader workers run."""
    from .. import offline  # noqa: PLC0415

    if offline.USER_THREADS:
        return int(offline.USER_THREADS) if offline.USER_THREADS.isdigit() else None
    return os.cpu_count() if workers == 0 else None


def cpu_training_speed(trainer) -> None:
    """On the CPU: use the cores the loader does not need, and train channels-last (CUDA: Ultralytics' own option)."""
    if trainer.device.type != "cpu":
        return
    threads = cpu_threads(int(trainer.args.workers or 0))
    if threads:
        torch.set_num_threads(threads)
    to_channels_last(trainer)


def to_channels_last(trainer) -> None:
    """Put the trainer's model in NHWC order (in place)."""
    from ultralytics.utils.torch_utils import unwrap_model  # noqa: PLC0415

    unwrap_model(trainer.model).to(memory_format=torch.channels_last)  # in place: optimizer and EMA keep their tensors
    setattr(trainer, NHWC_ATTR, True)


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
