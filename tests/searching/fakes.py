"""A deterministic stand-in for a trial (no training): its mAP after each epoch follows from its spec alone, so the
sequential and the Ray runners can be compared result for result. Imported by Ray's workers too."""

from pathlib import Path

DENSE = 0.45


def curve(spec, epochs):
    """mAP50-95 after each epoch: lower the more is pruned, recovering over the epochs; distillation and the
    progressive schedule help a little, l2 hurts."""
    final = DENSE - 0.12 * (1 - spec.amount) ** 2 + (0.004 if spec.distill == "native" else 0) \
        - (0.03 if spec.criterion == "l2" else 0) - (0.006 if spec.schedule == "oneshot" else 0)
    return [round(final - 0.03 / e, 5) for e in range(1, epochs + 1)]


def fake_trial(job, report):
    folder = Path(job.folder) / job.name / "weights"
    folder.mkdir(parents=True, exist_ok=True)
    for epoch, value in enumerate(curve(job.spec, job.epochs), 1):
        if not report(epoch, value, False):
            break
    import torch

    (folder / "best.pt").write_text(f"{job.spec.label} threads={torch.get_num_threads()}")
    return str(folder / "best.pt")


def plan(spec):
    return round(spec.amount * 0.95, 4), spec.amount


def timer(checkpoint):
    return {"ratio": 0.5, "pruned_ms": 5.0, "dense_ms": 10.0} if checkpoint else None
