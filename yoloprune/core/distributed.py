"""DDP agreement: every rank must apply the same pruning decision, so rank 0's is broadcast."""

from __future__ import annotations

import torch.distributed as dist


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def from_rank0(obj):
    """Rank 0's ``obj`` (anything picklable: removed channel indices, a width plan) on every rank; identity when
    not distributed."""
    if not is_distributed():
        return obj
    box = [obj if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]
