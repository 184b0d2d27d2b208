"""The demo's model table: well-formed markdown whichever latencies were measured."""

import pytest

from yoloprune.reporting.tables import format_table

ROW = {"model": "dense", "params": 3012018, "macs": 1.018, "epochs_label": "10", "map50_95": 0.6}


def _cells(line: str) -> list[str]:
    return line.strip().strip("|").split("|")


@pytest.mark.parametrize("latency, columns", [({}, 5), ({"openvino_fp32_ms": 4.8}, 6),
                                              ({"openvino_fp32_ms": 4.8, "openvino_int8_ms": 2.1}, 7)])
def test_every_line_has_as_many_cells_as_the_header(latency, columns):
    """Without OpenVINO (e.g. `demo formats=onnx` on a machine without it) the table once ended each line with an
    empty cell the separator line did not have."""
    lines = format_table([{**ROW, **latency}, {**ROW, "model": "pruned", **latency}]).splitlines()
    assert [len(_cells(line)) for line in lines] == [columns] * len(lines)
    assert all(cell.strip() for line in lines for cell in _cells(line))  # no empty cell anywhere
