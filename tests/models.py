"""The model registry the tests iterate over (timm-style): supported architectures and refused ones."""

SUPPORTED = ["yolov8n.yaml", "yolo11n.yaml", "yolo26n.yaml"]
ALSO_SUPPORTED = ["yolov5nu.yaml"]
REFUSED_DETECTORS = {"yolov9t.yaml": "YOLOv9", "yolov10n.yaml": "YOLOv10", "yolo12n.yaml": "YOLO12"}
REFUSED_TASKS = {"yolo11n-seg.yaml": "segment", "yolo11n-pose.yaml": "pose", "yolo11n-cls.yaml": "classify",
                 "rtdetr-l.yaml": "RT-DETR"}
IMGSZ = 64  # tests trace and count at a tiny size; channel structure does not depend on it


def build(cfg: str, nc: int = 3):
    from yoloprune import offline

    offline.configure()
    from ultralytics.nn.tasks import DetectionModel

    return DetectionModel(cfg, nc=nc, verbose=False).eval()


def synthetic_latency_table(groups: dict, dense_ms=100.0, step=8, staircase=None):
    """A latency table no one timed: each group (name -> (dense width, ms per channel)) saves ``ms per channel`` for
    every channel removed, measured in steps of ``step`` channels (unit tests time nothing)."""
    from yoloprune.core.latency import (
        GroupTiming,
        LatencyTable,
        Staircase,
        TableKey,
        fingerprint,
    )

    table = LatencyTable(key=TableKey("intel-cpu", "openvino", "fp32", 640, 1, 2, fingerprint({})), dense_ms=dense_ms,
                         staircase=Staircase(**staircase) if staircase else None)
    for name, (dense, per_channel) in groups.items():
        widths = list(range(step, dense + 1, step))
        table.groups[name] = GroupTiming(dense=dense, widths=widths,
                                         ms=[dense_ms - per_channel * (dense - w) for w in widths])
    return table
