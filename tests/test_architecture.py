"""The package's architecture, checked: imports point one way, no cycles, module-level imports, and
per-format behaviour only in the format table (walks the modules' source, no third-party tool)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "yoloprune"
STANDALONE = {"yoloprune.profiling.device.device_bench"}  # package data shipped to devices: runs without yoloprune
# each layer may import from its own and lower layers only (the number); entry points sit on top
LAYERS = {
    "yoloprune.errors": 0, "yoloprune.io": 0, "yoloprune.offline": 0, "yoloprune.logs": 0, "yoloprune.deprecation": 0,
    "yoloprune.core": 1, "yoloprune.reporting": 1,
    "yoloprune.integrations": 2, "yoloprune.data": 2,
    "yoloprune.callbacks": 3, "yoloprune.export": 3,
    "yoloprune.profiling": 4,
    "yoloprune.workflows": 5, "yoloprune.benchmarking": 5,
    "yoloprune.demo": 6, "yoloprune.searching": 6, "yoloprune.cli": 7, "yoloprune.__main__": 8, "yoloprune": 9,
}
# imports that may sit inside functions: optional export backends, and the few stated in place
OPTIONAL = {"openvino", "coremltools", "tensorrt", "nncf", "onnx", "onnxruntime", "ray"}
DEFERRED = {
    "yoloprune": ("importlib",),  # the lazy facade resolves names on first use
    "yoloprune.__main__": ("yoloprune.cli",),  # the environment is set before the CLI (and Ultralytics) loads
    "yoloprune.offline": ("ultralytics", "matplotlib"),  # stdlib-only at import: it runs before Ultralytics loads
    "yoloprune.reporting.plots": ("matplotlib",),  # importing matplotlib writes its font cache under HOME
}
FORMAT_NAMES = {"onnx", "openvino", "coreml", "engine"}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py") if _module(p) not in STANDALONE}
# stubs left at moved import paths: two statements, ``from ...deprecation import moved`` and ``__getattr__ = moved(...)``
STUBS = {name for name, p in MODULES.items()
         if any(isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "__getattr__"
                for n in ast.parse(p.read_text()).body)}


def _targets(node, name: str, path: Path) -> list[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = package.split(".")
    base = base[: len(base) - node.level + 1] if node.level else []
    root = ".".join([*base, *([node.module] if node.module else [])])
    return [root] + [f"{root}.{a.name}" for a in node.names]


def _imports(name: str) -> list[tuple[str, bool]]:
    """(imported module, inside a function?) for every import in ``name``."""
    path, out = MODULES[name], []

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.extend((t, in_function) for t in _targets(child, name, path))
            walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    walk(ast.parse(path.read_text()), False)
    return out


def _layer(module: str) -> int:
    best = max((k for k in LAYERS if module == k or module.startswith(k + ".")), key=len)
    return LAYERS[best]


def test_no_import_cycles():
    graph = {name: {t for t, _ in _imports(name) if t in MODULES and t != name} for name in MODULES}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, " ; ".join(" -> ".join(c) for c in cycles)


def test_dependencies_point_down():
    """core <- integrations <- workflows <- cli: no module imports from a layer above its own."""
    upward = [f"{name} ({_layer(name)}) imports {t} ({_layer(t)})"
              for name in MODULES if name not in STUBS for t, _ in _imports(name)
              if t in MODULES and t != "yoloprune" and _layer(t) > _layer(name)]
    assert not upward, "\n".join(upward)


def test_core_needs_no_trainer_data_or_exporter():
    """The core is torch + Torch-Pruning + Ultralytics' model definitions: no engine, trainer, data or export code."""
    allowed = ("ultralytics.nn", "ultralytics.utils", "ultralytics.cfg")
    bad = [f"{name}: {t}" for name in MODULES if name.startswith("yoloprune.core")
           for t, _ in _imports(name) if t.startswith("ultralytics") and not t.startswith(allowed)]
    assert not bad, bad


def test_function_level_imports_are_optional_backends_only():
    hidden = [f"{name}: {t}" for name in MODULES for t, inside in _imports(name)
              if inside and t.split(".")[0] not in OPTIONAL and not t.startswith(DEFERRED.get(name, ("-",)))
              and not t.startswith("yoloprune.export.openvino_precision")]  # the openvino helpers, same rule
    assert not hidden, "\n".join(hidden)


def test_per_format_branches_only_in_the_format_table():
    """``x == "onnx"`` (or ``in ("coreml", ...)``) on a format name appears only in export/formats.py."""
    found = []
    for name, path in MODULES.items():
        if name == "yoloprune.export.formats":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                consts = [c for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)]
                consts += [e for c in [node.left, *node.comparators] if isinstance(c, (ast.Tuple, ast.Set, ast.List))
                           for e in c.elts if isinstance(e, ast.Constant)]
                if any(c.value in FORMAT_NAMES for c in consts):
                    found.append(f"{name}:{node.lineno}")
    assert not found, found


def test_stubs_at_moved_paths_only_forward():
    """A moved module's old path holds only the forwarding stub (its names come from the new module, with a
    warning); the stub's new path is a real module of a layer that exists."""
    assert STUBS, "no stubs found: the old callbacks and export paths must keep working"
    for name in STUBS:
        tree = ast.parse(MODULES[name].read_text())
        body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        assert len(body) == 2 and isinstance(body[0], ast.ImportFrom) and body[0].module.endswith("deprecation"), name
        call = body[1].value
        assert isinstance(body[1], ast.Assign) and body[1].targets[0].id == "__getattr__" and call.func.id == "moved", name
        assert call.args[1].value in MODULES and call.args[1].value not in STUBS, f"{name} -> {call.args[1].value}"
