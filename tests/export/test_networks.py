"""One-layer networks of each runtime (what a per-layer latency table times): the convolution as it runs in the
model, one or two copies of it, quantised as the deployed INT8 model is."""

import numpy as np
import pytest

from yoloprune.core.layers import ConvShape

SHAPE = ConvShape(cin=32, cout=48, kernel=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(1, 1), groups=1, hw=(20, 20))


@pytest.mark.parametrize("copies", [1, 2])
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_an_onnx_layer_network_runs_the_convolution_as_in_the_model(tmp_path, copies, precision):
    import onnx
    import onnxruntime as ort

    from yoloprune.export.networks import onnx_conv_network

    path = onnx_conv_network(SHAPE, tmp_path / "n.onnx", copies, precision)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count("Conv") == copies and ops.count("Sigmoid") == copies
    assert ("QuantizeLinear" in ops) == (precision == "int8")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"x": np.random.default_rng(0).random((1, 32, 20, 20), dtype=np.float32)})
    assert y.shape == (1, 48, 10, 10)  # stride 2, padding 1: the model's output size


def test_a_coreml_layer_network_takes_a_tensor_and_stores_int8_as_the_export_does(tmp_path):
    import coremltools as ct

    from yoloprune.export.networks import coreml_conv_network

    for precision in ("fp16", "int8"):
        path = coreml_conv_network(SHAPE, tmp_path / f"{precision}.mlpackage", 2, precision)
        spec = ct.utils.load_spec(str(path))
        assert list(spec.description.input[0].type.multiArrayType.shape) == [1, 32, 20, 20]
        program = str(spec.mlProgram)
        assert program.count('"conv"') == 2  # two copies
        assert ("constexpr_lut_to_dense" in program) == (precision == "int8")  # 8-bit palettes, as Ultralytics'
