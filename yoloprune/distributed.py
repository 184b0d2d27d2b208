"""DDP agreement: every rank must apply the same pruning plan, so rank 0's plan is broadcast."""

from __future__ import annotations


def is_distributed() -> bool:
    import torch.distributed as dist  # noqa: PLC0415

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def broadcast_plan(plan):
    """Rank 0's plan (any picklable object: channel indices, planned widths) on every rank; identity when not distributed."""
    if not is_distributed():
        return plan
    import torch.distributed as dist  # noqa: PLC0415

    box = [plan if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]
