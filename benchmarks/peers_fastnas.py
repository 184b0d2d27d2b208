"""NVIDIA ModelOpt's FastNAS pruning on an Ultralytics detector, as its docs call it (a peer of ``benchmarks/peers.py``).

``modelopt.torch.prune.prune(model, mode="fastnas", constraints={"flops": "P%"}, dummy_input, config={"data_loader",
"collect_func", "score_func", "checkpoint"})``: a sensitivity map (the score of the full net and of every smaller
choice of each searchable width, one at a time), then a binary search on it for the FLOPs constraint; the model comes
back exported (plain modules, physically smaller). The score is a validation mAP50-95 on a fixed subset of the val
split, as ModelOpt's docs score detectors. What differs from a call a user would write, each listed in ``CHANGES``.

On the pinned Ultralytics 8.4 and ModelOpt 0.47, ``mtn.convert`` fails before any search: its tracer's concat rule
meets the first neck ``Concat`` (layer 11 of a YOLOv8, after the ``Upsample`` of layer 10) with one node where it
expects the list of inputs (``TypeError: 'Node' object is not iterable``, ``trace/modules/concat.py`` ->
``trace/analyzer.py``); stock C2f or Torch-Pruning's two-conv C2f alike. The benchmark keeps that row with the error.

Read ``benchmarks/notes/peers.md`` (section 1) for why the score loop validates a copy (Ultralytics' validator fuses the
model it is given, which would break the search space in place) and why ``collect_func`` is needed.
"""

from __future__ import annotations

import tempfile
from copy import deepcopy
from pathlib import Path

import torch
from torch import nn

CHANGES = (
    "the model given as Ultralytics builds it (stock C2f, as a user following its docs would); Torch-Pruning's "
    "two-conv C2f gives the same error in its tracer",
    "score_func: mAP50-95 of a copy of the candidate on the first val images (Ultralytics' validator fuses the "
    "model it is given; validating the search space itself would break it)",
    "collect_func: Ultralytics batches are dicts (FastNAS' default takes batch[0])",
    "its FLOPs percentage searched until the measured OpenVINO latency is within 3 % of the budget (ModelOpt has "
    "no OpenVINO latency client)",
)


def available() -> str | None:
    """None where ModelOpt imports, else why not (the row keeps the reason)."""
    try:
        import modelopt.torch.prune  # noqa: F401
    except Exception as e:  # an ImportError or its plugins' missing packages
        return f"nvidia-modelopt does not import: {type(e).__name__}: {e} (pip install 'yoloprune[peers]')"
    return None


def version() -> str:
    from importlib.metadata import version as v

    return f"nvidia-modelopt {v('nvidia-modelopt')}"


def subset_yaml(data_yaml: Path, images: int, folder: Path) -> Path:
    """A data YAML whose val split is the first ``images`` val images of ``data_yaml`` (the score's fixed subset)."""
    import yaml
    from ultralytics.data.utils import check_det_dataset

    info = check_det_dataset(str(data_yaml))
    val = Path(info["val"])
    files = sorted(p for p in val.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp"})[:images]
    folder.mkdir(parents=True, exist_ok=True)
    listing = folder / "score_val.txt"
    listing.write_text("".join(f"{p}\n" for p in files))
    out = folder / "score_data.yaml"
    out.write_text(yaml.safe_dump({"path": str(folder), "train": str(listing), "val": str(listing),
                                   "names": info["names"], "nc": info["nc"]}))
    return out


class MapScore:
    """FastNAS' ``score_func``: mAP50-95 of a copy of the candidate on a fixed val subset (higher is better)."""

    def __init__(self, data_yaml: Path, imgsz: int):
        self.data_yaml, self.imgsz, self.calls = data_yaml, imgsz, 0

    def __call__(self, model: nn.Module) -> float:
        from ultralytics.models.yolo.detect import DetectionValidator

        self.calls += 1
        model.eval()  # FastNAS re-estimates BatchNorm for the chosen subnet on eval()
        copy = deepcopy(model)
        with tempfile.TemporaryDirectory() as tmp:
            validator = DetectionValidator(save_dir=Path(tmp), args={
                "data": str(self.data_yaml), "imgsz": self.imgsz, "batch": 16, "plots": False, "verbose": False,
                "workers": 0, "half": False, "device": "cpu"})
            stats = validator(model=copy)
        return float(stats.get("metrics/mAP50-95(B)", 0.0))


def collect(batch: dict) -> torch.Tensor:
    return batch["img"]


def search_space_size(model: nn.Module) -> dict:
    """How many widths FastNAS may change in ``model`` and how many choices they hold (the converted model)."""
    import modelopt.torch.nas as mtn

    hps = {n: hp for n, hp in mtn.utils.named_hparams(model, configurable=True)}
    return {"hparams": len(hps), "choices": int(sum(len(hp.choices) for hp in hps.values()))}


def cut(model: nn.Module, flops_percent: float, imgsz: int, data_yaml: Path, score_yaml: Path, work: Path,
        batches: int = 16) -> tuple[nn.Module, dict]:
    """``model`` pruned by FastNAS to ``flops_percent`` % of its FLOPs; the sensitivity map is kept in ``work`` (the
    first call builds it, later calls with other percentages reuse it, as ModelOpt's checkpoint does)."""
    import modelopt.torch.prune as mtp

    from yoloprune.data.loaders import detection_batches

    net = deepcopy(model).float().eval()
    loader = [b for _, b in zip(range(batches), detection_batches(str(data_yaml), imgsz, batch=16))]
    score = MapScore(score_yaml, imgsz)
    work.mkdir(parents=True, exist_ok=True)
    pruned, _ = mtp.prune(net, mode="fastnas", constraints={"flops": f"{flops_percent:.2f}%"},
                          dummy_input=torch.zeros(1, 3, imgsz, imgsz),
                          config={"data_loader": loader, "collect_func": collect, "score_func": score,
                                  "checkpoint": str(work / "fastnas_search.pth"), "verbose": False})
    return pruned, {"score_calls": score.calls}
