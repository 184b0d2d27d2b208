"""The demo's config and records: checked before any training, the CLI's keys are the config's, and demo.json keeps
its layout. (The demo itself runs end to end in tests/e2e.)"""

import pytest

from yoloprune.cli import COMMANDS
from yoloprune.demo import DEMO_FORMATS, DemoConfig, DemoRow
from yoloprune.errors import ConfigError


def test_demo_config_names_the_fix_before_anything_trains():
    assert DemoConfig().formats == DEMO_FORMATS
    assert DemoConfig(formats=("onnx", "openvino:fp32")).formats == "onnx,openvino:fp32"  # the CLI's comma list
    for kwargs, message in (({"criterion": "nope"}, "unknown criterion 'nope'"),
                            ({"amount": 1.5}, "amount=1.5 must be strictly between 0 and 1"),
                            ({"steps": 0}, "steps=0 is invalid"),
                            ({"epochs": 0}, "epochs=0 is invalid"),
                            ({"imgsz": 10}, "imgsz=10 is invalid"),
                            ({"formats": "tflite"}, "unknown format 'tflite'"),
                            ({"runs": 0}, "runs=0 is invalid")):
        with pytest.raises(ConfigError, match=message):
            DemoConfig(**kwargs)


def test_cli_demo_keys_are_the_config_fields():
    keys = COMMANDS["demo"].defaults()
    config = DemoConfig().to_dict()
    assert {k: keys[k] for k in config} == config
    assert list(keys) == [*config, "project", "name", "exist_ok", "debug"]
    assert keys["project"] == "runs/demo" and keys["name"] == "demo"


def test_demo_row_keeps_the_demo_json_layout():
    row = DemoRow("pruned", "w/best.pt", 1500000, 0.51, "1 + 3", 0.4, {"fp32": 4.8, "int8": 2.1})
    assert row.to_dict() == {"model": "pruned", "weights": "w/best.pt", "params": 1500000, "macs": 0.51,
                             "epochs_label": "1 + 3", "map50_95": 0.4, "openvino_fp32_ms": 4.8,
                             "openvino_bf16_ms": None, "openvino_int8_ms": 2.1}
