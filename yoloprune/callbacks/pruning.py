"""Progressive pruning during a normal Ultralytics training run (at epoch starts, or mid-epoch).

``PruningCallbacks(config).callbacks`` is an Ultralytics-style ``{event: fn}`` dict composed from
small parts: the prune steps (here), the LR re-warm (``rewarm``), trainer surgery (``..surgery``),
distillation (``distill``), sparsity (``sparsity``), the Ctrl-C guard (``interrupt``) and the
ownership rule (``ownership``). The object is plain data plus bound methods, so it survives
Ultralytics' DDP re-spawn (cloudpickle) and checkpoints (its state also travels as
``model.yoloprune`` inside every checkpoint the trainer writes).
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import replace
from itertools import islice
from pathlib import Path

from ultralytics.utils import LOGGER, RANK
from ultralytics.utils.torch_utils import unwrap_model

from .. import offline
from ..core.config import OWN_DISTILL, ProgressiveConfig, PruneConfig, from_options, needs_latency_table
from ..core.criteria import CRITERIA
from ..core.distributed import from_rank0
from ..core.plan import WidthPlan
from ..core.prune import plan_pruning, prune_
from ..core.schedule import SCHEDULES, prune_epochs
from ..core.stats import conv_widths, model_stats, total_channels
from ..errors import ConfigError, YoloPruneError
from ..io import write_json_atomic
from ..integrations.ultralytics.model_io import is_pruned, load_model
from ..integrations.ultralytics.native_distill import DistillationModel, Projectors, distilling, student_of
from ..integrations.ultralytics.surgery import rebuild_after_prune, reset_best_tracking, restart_lr_schedule
from ..integrations.ultralytics.trainer import PrunedDetectionTrainer
from .distill import attach_distillation, dense_teacher, log_distillation
from .interrupt import InterruptGuard
from .ownership import claim
from .rewarm import LRRewarm
from .sparsity import SparsityStep


class PruningCallbacks:
    """Prunes ``trainer.model`` on a schedule and keeps the trainer consistent after every step."""

    def __init__(self, config: ProgressiveConfig | PruneConfig | None = None, **options):
        self.config = from_options(ProgressiveConfig, config, options)  # a config, or its flat options (not both)
        config = self.config
        needs_latency_table(config.prune, "the pruning callbacks")  # at registration, not at the first step
        self.history: list[dict] = []  # one entry per completed prune step
        self.dense: dict | None = None  # {"params", "macs", "channels", "widths"} of the model when the run started
        self.times: list[float] = []  # when each step runs, in epochs (0-based; fractions fall mid-epoch)
        self.plan: WidthPlan | None = None  # fixed at step 1
        self.latency: dict | None = None  # target=latency: the closed loop that set the planned budget (workflows)
        self.teacher = None
        self.token = id(self)
        self.guard = InterruptGuard()  # Ctrl-C waits until the epoch's checkpoint is written
        self.rewarm = LRRewarm(config.rewarm_epochs)
        self.sparsity = SparsityStep(config.sparsity, config.sparsity_weight) if config.sparsity != "none" else None
        self._batch = 0  # batches seen in the current epoch

    @property
    def callbacks(self) -> dict:
        return {
            "on_pretrain_routine_start": self.on_pretrain_routine_start,
            "on_pretrain_routine_end": self.on_pretrain_routine_end,
            "on_train_epoch_start": self.on_train_epoch_start,
            "on_train_batch_start": self.on_train_batch_start,
            "on_train_batch_end": self.on_train_batch_end,
            "on_train_epoch_end": self.on_train_epoch_end,
            "on_model_save": self.on_model_save,
            "on_fit_epoch_end": self.on_fit_epoch_end,
            "on_train_end": self.on_train_end,
        }

    def _mine(self, trainer) -> bool:
        return claim(trainer, self.token, lambda: self.callbacks)

    @property
    def complete(self) -> bool:
        return len(self.history) >= self.config.steps

    # ----------------------------------------------------------------- events
    def on_pretrain_routine_start(self, trainer) -> None:
        """Refuse, with the fix, a run that would silently train the dense YAML instead of a pruned checkpoint."""
        offline.guard_amp_check_if_requested()  # YOLOPRUNE_OFFLINE=1: also in a user's own train() and DDP workers
        if not self._mine(trainer):
            LOGGER.warning("yoloprune: a second set of pruning callbacks is registered on this trainer; ignoring it")
            return
        if distilling(trainer) and self.config.distill in OWN_DISTILL:
            raise ConfigError(f"distill={self.config.distill} and Ultralytics' distill_model={trainer.args.distill_model}"
                              " both distil: keep one (distill=native to use Ultralytics' own)")
        if self.config.distill == "native" and not distilling(trainer):
            raise ConfigError("distill=native is Ultralytics' own distillation: pass its teacher to train(), "
                              "distill_model=<the dense .pt> (prune_progressive and yolo-prune prune pass the model)")
        source = trainer.args.resume if trainer.resume else trainer.args.model
        if isinstance(trainer, PrunedDetectionTrainer) or not str(source).endswith(".pt") or not Path(str(source)).is_file():
            return
        if is_pruned(load_model(source)[0]):
            raise YoloPruneError(
                f"{source} is pruned, and Ultralytics' stock trainer would rebuild the dense model from its YAML: "
                "use yoloprune.YOLO(...) instead of ultralytics.YOLO, or pass trainer=yoloprune.PrunedDetectionTrainer"
            )

    def on_pretrain_routine_end(self, trainer) -> None:
        if not self._mine(trainer):
            return
        model = student_of(unwrap_model(trainer.model))
        state = getattr(model, "yoloprune", None) or {}
        if "history" in state and not self.history:  # resumed (or continued) run: pick the schedule up where it was
            self.history, self.dense = list(state["history"]), state.get("dense")
            self.plan = WidthPlan.from_dict(state["plan"]) if state.get("plan") else None
            self.latency = self.latency or state.get("latency")
            LOGGER.info(f"yoloprune: continuing the schedule after {len(self.history)} completed steps")
        if self.dense is None:
            stats = model_stats(model, self.config.prune.imgsz)
            self.dense = {"params": stats.params, "macs": stats.macs, "channels": total_channels(model),
                          "widths": conv_widths(model)}
        # the run's own start, also when resumed (Ultralytics restores model= from the checkpoint's train args)
        self.times = self.step_times(trainer.epochs, trained=str(trainer.args.model).endswith(".pt"))
        if self.config.distill in OWN_DISTILL and self.history:  # resumed after the teacher was saved at step 1
            self.teacher = dense_teacher(trainer, model)
            if self.complete:
                attach_distillation(model, self.teacher, self.config.distill, self.config.distill_weight)
        if self.complete and self.config.finetune_lr == "restart":  # the resumed scheduler is the run's own again
            restart_lr_schedule(trainer, self.history[-1]["at_epoch"] - 1)
        if not self.complete:
            reset_best_tracking(trainer, schedule_complete=False)
        p = self.config.prune
        LOGGER.info(f"yoloprune: {self.config.steps} prune steps ({self.config.schedule}) at epochs "
                    f"{_positions(self.times)} to {p.target}={p.amount}")

    def on_train_epoch_start(self, trainer) -> None:
        if not self._mine(trainer):
            return
        self._batch = 0
        self._run_due_steps(trainer, float(trainer.epoch), mid_epoch=False)

    def on_train_batch_start(self, trainer) -> None:
        """Run a step that falls mid-epoch, then ramp the learning rate back up after the latest step."""
        if not self._mine(trainer):
            return
        batches = max(len(trainer.train_loader), 1)
        self._run_due_steps(trainer, trainer.epoch + self._batch / batches, mid_epoch=self._batch > 0)
        self._batch += 1
        self.rewarm.on_batch(trainer, self._batch, batches)

    def on_train_batch_end(self, trainer) -> None:
        if self._mine(trainer) and self.sparsity is not None and not self.complete:
            self.sparsity.on_batch_end(trainer)

    def on_train_epoch_end(self, trainer) -> None:
        if self._mine(trainer):
            self.guard.start()  # validation + checkpoint write follow

    def on_model_save(self, trainer) -> None:
        if self._mine(trainer):
            self.guard.finish()

    def on_fit_epoch_end(self, trainer) -> None:
        if not self._mine(trainer):
            return
        self.guard.finish()  # epochs that saved nothing
        if not self.complete and trainer.epoch + 1 < trainer.epochs:
            trainer.stop = False  # early stopping may not end the run before the schedule is done
        log_distillation(trainer)

    def on_train_end(self, trainer) -> None:
        if self._mine(trainer) and RANK in {-1, 0}:
            self._write_history(trainer)

    # ----------------------------------------------------------------- the steps
    def step_times(self, total_epochs: int, trained: bool = False) -> list[float]:
        """When the prune steps run (epochs from the start, 0-based), for a run of ``total_epochs`` that starts from
        a ``trained`` checkpoint or not (automatic epochs: see :class:`ProgressiveConfig`)."""
        cfg = self.config
        first, last = (0.0, 0.2) if trained else (0.3, 0.6)
        start = cfg.start_epoch if cfg.start_epoch >= 0 else int(first * total_epochs)
        end = cfg.end_epoch if cfg.end_epoch >= 0 else max(start, int(last * total_epochs))
        if end >= total_epochs:
            raise ConfigError(f"end_epoch={end} is not inside the run's {total_epochs} epochs: lower it or train longer")
        return prune_epochs(start, end, cfg.steps)

    def _run_due_steps(self, trainer, position: float, mid_epoch: bool) -> None:
        """Every step whose time has come: normally one; several if a resume skipped some."""
        if self.complete:
            return
        due = [e for e in self.times if e <= position + 1e-9]
        while len(self.history) < len(due):
            self.step(trainer, position, mid_epoch)

    def make_plan(self, model, batches, tolerance: float | None = None) -> WidthPlan:
        """The final width of every prunable group, chosen once on the model as it is at the first step.

        Later steps walk each group from its dense width to this one (``WidthPlan.at``); only *which*
        channels go is re-scored at every step. Re-planning the global allocation at every step
        instead compounds: each ranking sees the previous cuts and keeps thinning the same layers.
        """
        cfg = self.config.prune
        if tolerance is not None:
            cfg = replace(cfg, tolerance=tolerance)
        return from_rank0(plan_pruning(model, cfg, batches=batches))

    def step(self, trainer, position: float | None = None, mid_epoch: bool = False) -> dict:
        """One prune step on the live model, then rebuild optimizer / scheduler / EMA / DDP and log."""
        cfg, k = self.config, len(self.history) + 1
        wrapper = unwrap_model(trainer.model)
        model = student_of(wrapper)  # (Ultralytics' distillation wraps it: its projectors follow the step)
        t0 = time.perf_counter()
        if cfg.distill in OWN_DISTILL and self.teacher is None:  # the dense model as trained so far teaches
            self.teacher = dense_teacher(trainer, model)
        criterion = model.criterion if hasattr(model, "criterion") else None
        with Projectors(wrapper) if isinstance(wrapper, DistillationModel) else nullcontext() as projectors:
            batches = self._batches(trainer) if CRITERIA[cfg.prune.criterion].needs_gradients else None
            if self.plan is None:
                try:
                    self.plan = self.make_plan(model, batches)
                except ConfigError as e:  # a long run should not die over granularity: take the closest reachable
                    LOGGER.warning(f"yoloprune: {e}; using the closest reachable width instead")
                    self.plan = self.make_plan(model, batches, tolerance=0.49)
            widths = self.plan.at(k, cfg.steps, SCHEDULES[cfg.schedule], cfg.prune.round_to)
            report = prune_(model, cfg.prune, batches=batches, sync=from_rank0, widths=widths,
                            on_removed=projectors.follow if projectors else None)
        model.criterion = criterion  # keep the loss (YOLO26's end-to-end weighting has its own schedule)
        # always: even an empty step (coarse round_to, AGP's flat tail) re-created the split blocks' tensors
        rebuild_after_prune(trainer, trainer.epoch + 1 if mid_epoch else trainer.epoch)
        if report.pruned.params != report.dense.params:
            self.rewarm.start(len(trainer.train_loader))
        position = float(trainer.epoch) if position is None else position
        entry = {"step": k, "epoch": trainer.epoch + 1, "at_epoch": round(position + 1, 3),
                 "params": report.pruned.params, "macs": report.pruned.macs,
                 "macs_kept": report.pruned.macs / self.dense["macs"],
                 "params_kept": report.pruned.params / self.dense["params"],
                 "channels": total_channels(model), "seconds": time.perf_counter() - t0}
        self.history.append(entry)
        if self.complete:
            reset_best_tracking(trainer, schedule_complete=True)
            if cfg.finetune_lr == "restart":
                restart_lr_schedule(trainer, position)
            if self.teacher is not None:
                attach_distillation(model, self.teacher, cfg.distill, cfg.distill_weight)
        self._stamp(trainer)
        LOGGER.info(f"yoloprune: step {k}/{cfg.steps} at epoch {entry['at_epoch']:g}: MACs {report.pruned.macs:.3f}G "
                    f"({entry['macs_kept']:.1%} of dense), params {report.pruned.params:,} "
                    f"({entry['params_kept']:.1%}), {entry['channels']} channels, {entry['seconds']:.1f}s")
        if RANK in {-1, 0}:
            self._write_history(trainer)
        return entry

    def _batches(self, trainer):
        """A few of the trainer's own batches, preprocessed like its training loop does."""
        return [trainer.preprocess_batch(b) for b in islice(trainer.train_loader, self.config.prune.taylor_batches)]

    # ----------------------------------------------------------------- the record
    def state(self) -> dict:
        return {"config": self.config.to_dict(), "dense": self.dense, "history": self.history,
                "epochs": _positions(self.times), "plan": self.plan.to_dict() if self.plan else None,
                "complete": self.complete, "latency": self.latency}

    def _stamp(self, trainer) -> None:
        """Record the schedule state on the model and its EMA, so every checkpoint carries it."""
        state = self.state()
        student_of(unwrap_model(trainer.model)).yoloprune = state
        if trainer.ema is not None:
            student_of(trainer.ema.ema).yoloprune = state  # (a distilled run's checkpoint keeps the student only)

    def _write_history(self, trainer) -> None:
        write_json_atomic(self.state(), Path(trainer.save_dir) / "prune_schedule.json")


def _positions(epochs: list[float]) -> list:
    """Step times as 1-based epochs for people: whole epochs as ints (1 = the start of epoch 1)."""
    return [int(e) + 1 if float(e).is_integer() else round(e + 1, 2) for e in epochs]
