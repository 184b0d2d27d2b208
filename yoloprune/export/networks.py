"""One-layer networks of a deployment runtime: what a per-layer latency table times, here (ONNX, which OpenVINO
and ONNX Runtime read) or on a device through its profile kit (ONNX that TensorRT builds; CoreML packages).

Each holds ``copies`` of one convolution (batch norm folded in, as every export does) with its SiLU, side by side
on the same input, their outputs added. A network of one convolution costs far more than the convolution does
inside a model: the runtime converts the input and output between the caller's layout and its own (measured
2-6x a convolution's in-model cost with OpenVINO). Two copies pay those conversions once as one copy does, so
the difference of the two is the convolution's own cost, as in the model (plus an addition the runtime fuses).
The format table (:data:`~yoloprune.export.formats.FORMATS`) names each format's builder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..core.layers import ConvShape


def _weights(shape: ConvShape, copy: int) -> tuple[np.ndarray, np.ndarray]:
    """The same random weights and bias for a shape's ``copy`` in every format."""
    rng = np.random.default_rng(copy)
    w = (rng.standard_normal((shape.cout, shape.cin // shape.groups, *shape.kernel)) * 0.05).astype(np.float32)
    return w, (rng.standard_normal(shape.cout) * 0.05).astype(np.float32)


def onnx_conv_network(shape: ConvShape, path: Path, copies: int = 1, precision: str = "fp32") -> Path:
    """The one-layer ONNX network at ``path``. ``precision="int8"``: as an INT8 export runs it, the input quantised
    to uint8 and the weights to int8 per output channel (QuantizeLinear / DequantizeLinear pairs, which the runtime
    executes as an int8 convolution, as it does NNCF's quantisers); other precisions are the runtime's to apply."""
    import onnx  # noqa: PLC0415 (optional backend)
    from onnx import TensorProto, helper, numpy_helper  # noqa: PLC0415

    quantized = precision == "int8"
    nodes, weights, out, x = [], [], None, "x"
    if quantized:
        weights += [numpy_helper.from_array(np.array(1 / 255, np.float32), "sx"),
                    numpy_helper.from_array(np.array(0, np.uint8), "zx")]
        nodes += [helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
                  helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"])]
        x = "xd"
    for i in range(copies):
        w, b = _weights(shape, i)
        if quantized:
            scale = np.abs(w).reshape(shape.cout, -1).max(1) / 127
            weights += [numpy_helper.from_array(np.round(w / scale[:, None, None, None]).astype(np.int8), f"wq{i}"),
                        numpy_helper.from_array(scale.astype(np.float32), f"sw{i}"),
                        numpy_helper.from_array(np.zeros(shape.cout, np.int8), f"zw{i}")]
            nodes.append(helper.make_node("DequantizeLinear", [f"wq{i}", f"sw{i}", f"zw{i}"], [f"w{i}"], axis=0))
        else:
            weights.append(numpy_helper.from_array(w, f"w{i}"))
        weights.append(numpy_helper.from_array(b, f"b{i}"))
        nodes += [helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=list(shape.kernel),
                                   strides=list(shape.stride), pads=[*shape.padding, *shape.padding],
                                   dilations=list(shape.dilation), group=shape.groups),
                  helper.make_node("Sigmoid", [f"c{i}"], [f"s{i}"]),
                  helper.make_node("Mul", [f"c{i}", f"s{i}"], [f"y{i}"])]
        if out is not None:
            nodes.append(helper.make_node("Add", [out, f"y{i}"], [f"a{i}"]))
        out = f"y{i}" if out is None else f"a{i}"
    inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, shape.cin, *shape.hw])
    graph = helper.make_graph(nodes, "layer", [inp], [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
                              weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def coreml_conv_network(shape: ConvShape, path: Path, copies: int = 1, precision: str = "fp16") -> Path:
    """The one-layer CoreML package (an ML program) at ``path``: float16 compute as Ultralytics' CoreML export
    converts; ``precision="int8"``: its weights palettised to 8 bits (k-means, tensors of 512 weights and
    more), as Ultralytics' INT8 CoreML export stores them. The input is a float32 tensor named ``x`` (no image
    preprocessing: only the layer is timed)."""
    import coremltools as ct  # noqa: PLC0415 (optional backend)

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList()
            for i in range(copies):
                conv = nn.Conv2d(shape.cin, shape.cout, shape.kernel, shape.stride, shape.padding, shape.dilation,
                                 shape.groups)
                w, b = _weights(shape, i)
                conv.weight.data, conv.bias.data = torch.from_numpy(w), torch.from_numpy(b)
                self.convs.append(conv)

        def forward(self, x):
            y = nn.functional.silu(self.convs[0](x))
            for conv in self.convs[1:]:
                y = y + nn.functional.silu(conv(x))
            return y

    x = torch.zeros(1, shape.cin, *shape.hw)
    traced = torch.jit.trace(Layer().eval(), x)
    model = ct.convert(traced, inputs=[ct.TensorType(name="x", shape=tuple(x.shape), dtype=np.float32)],
                       convert_to="mlprogram", compute_precision=ct.precision.FLOAT16,
                       minimum_deployment_target=ct.target.iOS16)
    if precision == "int8":
        from coremltools.optimize.coreml import (OpPalettizerConfig, OptimizationConfig,  # noqa: PLC0415
                                                 palettize_weights)
        model = palettize_weights(model, OptimizationConfig(OpPalettizerConfig(mode="kmeans", nbits=8,
                                                                               weight_threshold=512)))
    model.save(str(path))
    return Path(path)
