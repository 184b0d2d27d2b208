"""Re-point an Ultralytics trainer at a model whose tensors were replaced by pruning.

After a prune step the optimizer still holds the old tensors, ``ModelEMA`` averages orphans, the
LR scheduler wraps the old optimizer, DDP's buckets point at dead parameters and frozen layers
(the DFL) are trainable again (field notes). :func:`rebuild_after_prune` fixes all of them; the AMP
``GradScaler`` holds no parameter references (only its scale), so it is kept as it is.
"""

from __future__ import annotations

import inspect
import math

import torch
from torch import nn

from ultralytics.utils.torch_utils import EarlyStopping, ModelEMA, unwrap_model

from .cpu_speed import keep_channels_last


def refreeze(trainer) -> None:
    """Re-apply the trainer's frozen layers (``freeze=`` and the always-frozen DFL) to the new tensors."""
    for name, p in unwrap_model(trainer.model).named_parameters():
        p.requires_grad_(not any(f in name for f in getattr(trainer, "freeze_layer_names", [".dfl"])))


def rebuild_optimizer(trainer) -> None:
    """A fresh optimizer over the pruned parameters with the run's resolved settings (name, lr0, momentum, decay)."""
    args = trainer.args
    old = trainer.optimizer
    accumulate = max(round(args.nbs / trainer.batch_size), 1)  # nominal, as Ultralytics sets it (not warm-up's ramp)
    weight_decay = args.weight_decay * trainer.batch_size * accumulate / args.nbs
    iterations = math.ceil(len(trainer.train_loader.dataset) / max(trainer.batch_size, args.nbs)) * trainer.epochs
    name = args.optimizer if str(args.optimizer).lower() != "auto" else type(old).__name__
    trainer.optimizer = trainer.build_optimizer(
        model=trainer.model, name=name, lr=args.lr0, momentum=args.momentum, decay=weight_decay, iterations=iterations
    )
    # keep the current learning rates (warm-up / schedule position) of the matching parameter groups, and their
    # base rate: a new optimizer has no initial_lr, and the scheduler built next would take the current rate as it
    for new, prev in zip(trainer.optimizer.param_groups, old.param_groups):
        new.update({k: prev[k] for k in ("lr", "initial_lr") if k in prev})
        new.update({k: prev[k] for k in ("momentum", "betas") if k in prev and k in new})  # this optimizer's own


def rebuild_scheduler(trainer, epoch: int) -> None:
    """A new LambdaLR on the new optimizer, positioned so the coming ``scheduler.step()`` gives epoch's lr."""
    lrs = [g["lr"] for g in trainer.optimizer.param_groups]
    trainer._setup_scheduler()
    trainer.scheduler.last_epoch = epoch - 1
    for g, lr in zip(trainer.optimizer.param_groups, lrs):
        g["lr"] = lr


def restart_lr_schedule(trainer, at: float) -> None:
    """From epoch position ``at`` (0-based, may be fractional) on, squeeze the run's whole LR schedule into
    the epochs that remain, so a fine-tune stage starts again from lr0 (call after the last rebuild)."""
    base, epochs = trainer.lf, trainer.epochs
    span = max(epochs - at, 1e-6)

    def lf(epoch: float) -> float:
        return base(max(epoch - at, 0.0) * epochs / span)

    trainer.lf = lf
    trainer.scheduler.lr_lambdas = [lf] * len(trainer.scheduler.lr_lambdas)
    for g in trainer.optimizer.param_groups:
        if "initial_lr" in g:
            g["lr"] = g["initial_lr"] * lf(getattr(trainer, "epoch", trainer.start_epoch))


def rebuild_ema(trainer) -> None:
    """EMA restarted from the pruned weights, keeping its update count (so its decay ramp does not restart)."""
    if trainer.ema is None:
        return
    updates = trainer.ema.updates
    trainer.ema = ModelEMA(trainer.model)
    trainer.ema.updates = updates


def rewrap_ddp(trainer, module: nn.Module) -> None:
    """Wrap the pruned module in a new DistributedDataParallel like the trainer does (no-op without DDP)."""
    if not isinstance(trainer.model, nn.parallel.DistributedDataParallel):
        trainer.model = module
        return
    old = trainer.model
    # the settings Ultralytics' own wrap used (BatchNorm buffers are not synchronised on every forward)
    kwargs = {"find_unused_parameters": old.find_unused_parameters, "static_graph": bool(trainer.args.compile)}
    ddp = nn.parallel.DistributedDataParallel
    sync_flag = "forward_sync_buffers" if "forward_sync_buffers" in inspect.signature(ddp.__init__).parameters \
        else "broadcast_buffers"
    kwargs[sync_flag] = False
    device_ids = [trainer.device.index] if trainer.device.type == "cuda" else None
    trainer.model = nn.parallel.DistributedDataParallel(module, device_ids=device_ids, **kwargs)


def rebuild_after_prune(trainer, epoch: int) -> None:
    """Everything that referenced the old tensors, in dependency order."""
    module = unwrap_model(trainer.model)
    keep_channels_last(trainer)  # pruned tensors are new NCHW tensors
    rewrap_ddp(trainer, module)
    refreeze(trainer)
    rebuild_optimizer(trainer)
    rebuild_scheduler(trainer, epoch)
    rebuild_ema(trainer)
    trainer.optimizer.zero_grad()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def reset_best_tracking(trainer, schedule_complete: bool) -> None:
    """Until the last prune step no epoch may become ``best.pt``; after it, tracking restarts."""
    trainer.best_fitness = None if schedule_complete else math.inf
    trainer.stopper = EarlyStopping(patience=trainer.args.patience)
