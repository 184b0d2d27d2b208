"""The one "set the model's mode / gradients, do X, restore" context manager."""

from __future__ import annotations

from contextlib import contextmanager

from torch import nn


@contextmanager
def model_mode(model: nn.Module, *, training: bool | None = None, grads: bool | None = None):
    """For the block: ``model.train(training)`` and ``requires_grad=grads`` on the parameters that differ;
    afterwards the previous mode (of every submodule, via ``train``) and each flipped flag come back."""
    was_training = model.training
    flipped = [p for p in model.parameters() if grads is not None and p.requires_grad != grads]
    if training is not None:
        model.train(training)
    for p in flipped:
        p.requires_grad_(grads)
    try:
        yield model
    finally:
        for p in flipped:
            p.requires_grad_(not grads)
        model.train(was_training)
