"""OpenVINO computes in the precision asked for, on CPUs with bf16 (avx512_bf16/AMX) and without.

The config is a pure function of the CPU's capabilities (tested for both kinds of CPU); the real
compile on this machine is read back from OpenVINO (what it compiled, not only the outcome).
"""

import pytest

from yoloprune.errors import ConfigError
from yoloprune.export.openvino_precision import COMPUTE, compile_config, unsupported

BF16_CPU = ("BF16", "WINOGRAD", "FP32", "INT8", "BIN", "EXPORT_IMPORT")  # OpenVINO 2026.4 on an EPYC with avx512_bf16
PLAIN_CPU = ("WINOGRAD", "FP32", "INT8", "BIN", "EXPORT_IMPORT")  # an AVX2/AVX-512 CPU without bf16


@pytest.mark.parametrize("caps", [BF16_CPU, PLAIN_CPU], ids=["bf16-cpu", "plain-cpu"])
def test_fp32_fp16_int8_compile_in_f32_on_every_cpu(caps):
    for precision in ("fp32", "fp16", "int8"):
        config = compile_config(precision, caps, threads=2)
        assert config["INFERENCE_PRECISION_HINT"] == "f32" and config["INFERENCE_NUM_THREADS"] == 2


def test_bf16_where_supported_and_a_clear_error_where_not():
    assert compile_config("bf16", BF16_CPU)["INFERENCE_PRECISION_HINT"] == "bf16"
    assert unsupported("bf16", BF16_CPU) is None
    why = unsupported("bf16", PLAIN_CPU)
    assert "no bf16 support" in why and "openvino:fp32" in why  # names the fix
    with pytest.raises(ConfigError, match="openvino:bf16: this CPU has no bf16 support"):
        compile_config("bf16", PLAIN_CPU)
    with pytest.raises(ConfigError, match="use one of"):
        compile_config("fp64", BF16_CPU)


@pytest.fixture(scope="module")
def tiny_ir(tmp_path_factory):
    ov = pytest.importorskip("openvino")
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3), torch.nn.SiLU(), torch.nn.Conv2d(16, 8, 3)).eval()
    folder = tmp_path_factory.mktemp("ir") / "tiny_openvino_model"
    folder.mkdir()
    ov.save_model(ov.convert_model(net, example_input=torch.rand(1, 3, 32, 32)), str(folder / "tiny.xml"))
    return folder


def test_what_openvino_compiled_is_what_was_asked(tiny_ir):
    import openvino as ov

    from yoloprune.export.openvino_precision import compile_ir, compiled_precision, cpu_capabilities

    caps = cpu_capabilities()
    core = ov.Core()
    untouched = compiled_precision(core.compile_model(core.read_model(str(tiny_ir / "tiny.xml")), "CPU"))
    # the trap: untouched, a bf16 CPU computes an FP32 IR in bf16
    assert untouched == ("bf16" if "BF16" in caps else "f32")
    for precision in ("fp32", "fp16", "int8"):
        _, ran = compile_ir(tiny_ir, precision, threads=1)
        assert ran == "f32"
    if "BF16" in caps:
        assert compile_ir(tiny_ir, "bf16")[1] == "bf16"
    else:
        with pytest.raises(ConfigError, match="no bf16 support"):
            compile_ir(tiny_ir, "bf16")


def test_forced_precision_reaches_every_core_in_its_context_and_is_given_back(tiny_ir):
    """Ultralytics' AutoBackend builds its own ov.Core(): inside the scope it compiles with the hint."""
    import threading

    import openvino as ov

    from yoloprune.export.openvino_precision import compiled_precision, forced_precision

    original = ov.Core
    xml = str(tiny_ir / "tiny.xml")
    other = {}
    with forced_precision("fp32") as seen:
        core = ov.Core()  # as Ultralytics does, with its own config
        for device, config in (("CPU", {"PERFORMANCE_HINT": "LATENCY"}), ("AUTO", None)):
            assert compiled_precision(core.compile_model(core.read_model(xml), device_name=device, config=config)) == "f32"
        assert compiled_precision(core.compile_model(core.read_model(xml), "CPU", {})) == "f32"  # positional config
        # another thread is not in the scope: it compiles as it asks (bf16 asked stays bf16 where supported)
        t = threading.Thread(target=lambda: other.update(ran=compiled_precision(
            ov.Core().compile_model(ov.Core().read_model(xml), "CPU", {"INFERENCE_PRECISION_HINT": "bf16"}))))
        t.start()
        t.join()
    assert seen == ["f32"] * 3 and ov.Core is original
    from yoloprune.export.openvino_precision import cpu_capabilities

    assert other["ran"] == ("bf16" if "BF16" in cpu_capabilities() else "f32")
    kept = core.compile_model(core.read_model(xml), "CPU", {"INFERENCE_PRECISION_HINT": "bf16"})  # kept past the scope
    assert compiled_precision(kept) == other["ran"] and len(seen) == 3
    assert COMPUTE["fp32"] == "f32"
