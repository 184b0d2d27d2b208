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
