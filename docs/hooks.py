"""MkDocs hooks for the yoloprune documentation site (``mkdocs.yml``: ``hooks: [docs/hooks.py]``).

1. **Generated reference pages.** A page that holds a marker ``<!-- generated: NAME -->`` gets the
   generated Markdown in its place, built from the code at build time so it cannot drift:

   - ``cli``: every command of ``yoloprune.cli.COMMANDS`` with its help and its keys and defaults
     (``COMMANDS[name].defaults()``), each key described from the config dataclass field it fills;
   - ``configs``: the fields, types, defaults and descriptions of the config dataclasses (those of
     ``CONFIGS`` that exist: a config not there yet is left out, not an error);
   - ``toplevel``: the names ``import yoloprune`` offers and where each is defined.

2. **Stale references fail the build.** Every user document (the pages and the repository's README.md)
   is checked: each ``yolo-prune <command> key=value ...`` line is parsed by the CLI's own parser (an
   unknown command or key is an error), each ``from yoloprune... import ...`` / ``import yoloprune...``
   and each ``yoloprune.x.y`` code span must resolve, README links to ``docs/`` pages must exist, and no
   user document cites an issue, a stop or a commit. Problems are logged as warnings, which
   ``mkdocs build --strict`` turns into a failed build.

3. **Docstrings written with Sphinx roles** (``:class:`~yoloprune.core.config.PruneConfig```) render
   as plain code spans in the API reference.

The build imports yoloprune (and so Ultralytics) with ``YOLOPRUNE_OFFLINE=1``: Ultralytics' config goes to
yoloprune's private folder, never the builder's ``~/.config``, and nothing is looked up on the network.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import os
import re
import shlex
import typing
from pathlib import Path

from mkdocs.plugins import get_plugin_logger

os.environ.setdefault("YOLOPRUNE_OFFLINE", "1")  # this build process only: see the module docstring
os.environ.setdefault("MPLBACKEND", "Agg")

log = get_plugin_logger("yoloprune-docs")
ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!--\s*generated:\s*([\w-]+)\s*-->")
# "<!-- optional -->" before a "::: dotted.path" directive (and its indented options): left out while the
# object does not exist, rendered (and then checked like any other) once it does
OPTIONAL = re.compile(r"^<!--\s*optional\s*-->\n:::\s*([\w.]+)[^\n]*\n(?:[ \t]+[^\n]*\n)*", re.M)

# The config dataclasses the reference lists, in this order: (module, class). One that does not exist
# (yet) is skipped with a note in the build log.
CONFIGS = [
    ("yoloprune.core.config", "PruneConfig"),
    ("yoloprune.core.config", "ProgressiveConfig"),
    ("yoloprune.workflows.finetune", "FinetuneConfig"),
    ("yoloprune.workflows.latency", "LatencyCheck"),
    ("yoloprune.workflows.sensitivity", "SensitivityConfig"),
    ("yoloprune.workflows.sparsify", "SparsifyConfig"),
    ("yoloprune.profiling.profile", "ProfileConfig"),
    ("yoloprune.export.exporter", "ExportConfig"),
    ("yoloprune.benchmarking.benchmark", "BenchmarkConfig"),
    ("yoloprune.searching.config", "SearchConfig"),
    ("yoloprune.demo", "DemoConfig"),
]

# Which config fills a command's keys (a key found in none of them is described by KEY_HELP); RENAMED maps
# a CLI key to its config field where the two are spelled differently.
COMMAND_CONFIGS = {
    "prune": ["PruneConfig", "ProgressiveConfig"],
    "finetune": ["FinetuneConfig"],
    "export": ["ExportConfig"],
    "benchmark": ["BenchmarkConfig"],
    "profile": ["ProfileConfig"],
    "sensitivity": ["SensitivityConfig"],
    "search": ["SearchConfig"],
    "report": [],
    "demo": ["DemoConfig"],
}
RENAMED = {("export", "format"): "formats", ("benchmark", "format"): "formats"}

_COMMON = {
    "project": "parent folder of the run folder",
    "name": "run folder name inside `project` (an existing one gets a number: `exp2`, ... unless `exist_ok=True`)",
    "exist_ok": "write into an existing run folder instead of a new numbered one",
    "debug": "show third-party output (Ultralytics, OpenVINO, NNCF, coremltools) on the console instead of the "
             "run's log file, and a traceback on errors",
}
# CLI keys that are not a config field: per command (a key listed here that the command no longer has is
# reported as stale). Where a config field exists, its own docstring wins.
KEY_HELP = {
    "prune": {
        "model": "the dense model: a trained `.pt`, or a model `.yaml` (random weights)",
        "data": "dataset name (`shapes`, `coco8`, ...) or data YAML: batches for the data-driven criteria, "
                "the class count of a YAML model, INT8 calibration",
        "epochs": "`0`: one-shot prune into `pruned.pt`; `N`: prune while training for N epochs "
                  "(the schedule keys), the rest of the run is the fine-tune stage",
        "batch": "training batch size (with `epochs>0`)",
        "workers": "data loader workers (with `epochs>0`; 0 trains on every core)",
        "resume": "`<run>/weights/last.pt` of an interrupted run: continue it with its recorded schedule",
        "method": "`structured` removes channels; `unstructured` zeroes single weights (`sparse.pt`, one-shot)",
        "hardware": "with `target=latency`: where the latency table is measured (`intel-cpu`, `jetson`, `mac`, "
                    "`iphone`)",
        "format": "with `target=latency`: the runtime and precision of the table, e.g. `openvino:fp32`, "
                  "`openvino:int8`, `engine:fp16`, `coreml:fp16`",
        "compute_units": "with `target=latency` on `mac`/`iphone`: which merged CoreML table to prune with "
                         "(`ALL` when left out, `CPU_AND_NE`, `CPU_AND_GPU`, `CPU_ONLY`)",
        **_COMMON,
    },
    "finetune": {
        "model": "the pruned checkpoint (its architecture is kept)",
        "data": "dataset name or data YAML",
        "epochs": "training epochs",
        "teacher": "the dense checkpoint to distil from (the same classes; the model the pruned one came from)",
        "distill": "`none`, or what the teacher teaches: `logit` (class scores and box distributions), `feature` "
                   "(spatial attention of the neck features), `both`",
        "distill_weight": "weight of the distillation loss against the Ultralytics loss",
        "imgsz": "training image size",
        "batch": "training batch size",
        "workers": "data loader workers (0 trains on every core)",
        **_COMMON,
    },
    "export": {
        "model": "the checkpoint to export; the exports land beside it",
        "data": "dataset name or YAML: INT8 calibration and the mAP50-95 check of each export",
        "debug": _COMMON["debug"],
    },
    "benchmark": {
        "model": "the pruned checkpoint",
        "dense": "the dense `.pt` or `.yaml` it is compared with (default: the one the pruned checkpoint records)",
        "data": "dataset name or YAML: INT8 calibration and each row's mAP50-95",
        "merge": "a device's `results.json` (from a bundle's `run_benchmark.py`) to merge into the run "
                 "`project`/`name`",
        **_COMMON,
    },
    "profile": {
        "model": "the model whose latency table is measured (`.pt` or `.yaml`: only the architecture counts)",
        "hardware": "`intel-cpu` is measured here; `jetson`, `mac`, `iphone` get a profile kit to time on the device",
        "format": "one runtime and precision: `openvino:fp32|bf16|int8` or `onnx` here, `engine:fp16|int8` for "
                  "a Jetson, `coreml:fp16|int8` for a Mac or an iPhone",
        "imgsz": "input size the variants are timed at (batch 1)",
        "threads": "CPU threads the runtime is given",
        "data": "dataset name or YAML the INT8 variants are calibrated on",
        "kit": "with `merge=`: the kit folder (its `kit.json`) the timings belong to, if not beside them",
        "fractions": "widths each group is measured at, as fractions of its width (default `0.75,0.5,0.25`); "
                     "`target=latency` never prunes a group below its narrowest measured width",
        "fit": "random whole variants the latency model is fitted on (default: 8 calibrate a per-layer table; "
               "twice the number of groups fit a whole-variant one)",
        "method": "`layers`: each convolution timed alone over a grid of its channels, the sum calibrated on a "
                  "few whole variants (minutes); `variants`: a whole model per group and width (far slower); "
                  "`auto`: `layers` for FP32/BF16/FP16, `variants` for INT8 (more accurate there)",
        "compute_units": "CoreML compute units (chosen where a kit is timed: give it to `prune` instead)",
        "runs": "timed rounds per variant (a median gets at least 300 ms of runs)",
        "validate": "held-out random variants both latency models are judged on",
        "merge": "a kit's `timings.json`, its filled `iphone_timings.csv` or a table JSON: brought into the cache",
        **_COMMON,
    },
    "sensitivity": {
        "model": "the trained checkpoint (`.pt`)",
        "data": "dataset name or data YAML (its validation split)",
        **_COMMON,
    },
    "search": {
        "model": "the trained checkpoint (`.pt`): its validation mAP50-95 is what `max_drop` is counted from",
        "data": "dataset name or data YAML: every trial is fine-tuned on its training split and validated on its "
                "validation split",
        "batch": "training batch size of every trial",
        "workers": "data loader workers of every trial (0 trains on every core)",
        "resume": "the folder of a search (`runs/search/exp`): continue it with its own settings (finished trials "
                  "are kept; `trials=` may ask for more)",
        **_COMMON,
    },
    "report": {
        "run": "the `<project>/<name>` folder of a yolo-prune run",
        "debug": _COMMON["debug"],
    },
    "demo": dict(_COMMON),
}


# ----------------------------------------------------------------------------- docstrings -> descriptions
def _attributes(doc: str) -> dict[str, str]:
    """Field descriptions from a docstring: a Google ``Attributes:`` section (``a / b: text`` names two
    fields), else prose of the form ````name````: text; ````other````: text."""
    lines = (doc or "").splitlines()
    out: dict[str, str] = {}
    for i, line in enumerate(lines):
        if line.strip() == "Attributes:":
            base = len(line) - len(line.lstrip())
            names, text = None, []
            for item in lines[i + 1:]:
                if item.strip() and len(item) - len(item.lstrip()) <= base:
                    break
                entry = re.match(r"^\s*([A-Za-z_][\w ,/]*?)(?: \([^)]*\))?:\s+(.*)$", item)
                indent = len(item) - len(item.lstrip())
                if entry and (names is None or indent <= entry_indent):
                    if names:
                        out.update({n: " ".join(text) for n in names})
                    entry_indent = indent
                    names = [n.strip() for n in re.split(r"[/,]", entry.group(1)) if n.strip()]
                    text = [entry.group(2).strip()]
                elif names and item.strip():
                    text.append(item.strip())
            if names:
                out.update({n: " ".join(text) for n in names})
            return out
    prose = " ".join(line.strip() for line in lines)
    for m in re.finditer(r"``(\w+)``: (.*?)(?=;\s*``\w+``:|$)", prose):
        out[m.group(1)] = m.group(2).strip().rstrip(".;")
    return out


def _summary(doc: str) -> str:
    """The docstring's text before its ``Attributes:`` section, as Markdown paragraphs."""
    text = (doc or "").split("Attributes:")[0]
    paragraphs = [" ".join(line.strip() for line in p.splitlines()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def _md(text: str) -> str:
    """Docstring text for a Markdown table cell: Sphinx roles and double backticks to code spans, pipes escaped."""
    text = re.sub(r":(?:class|func|meth|mod|attr|data|obj):`~?([^`]+)`", r"`\1`", text)
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    return _cell(text).strip()


TOKEN = re.compile(r"(?<![\w`])([\w.:/\[\]-]*<[^>\s]+>[^\s;,()]*|[a-z_]+=(?:[^\s;,()]*[^\s;,().])?)")


def _outside_code(text: str, fn) -> str:
    """``fn`` applied to the parts of ``text`` that are not code spans."""
    return "".join(p if p.startswith("`") else fn(p) for p in re.split(r"(`[^`]*`)", text))


def _cell(text: str) -> str:
    """Markdown safe in a table cell and a paragraph: pipes and ``<`` escaped outside code spans."""
    return _outside_code(text, lambda p: p.replace("|", "\\|").replace("<", "&lt;"))


def _help_md(text: str) -> str:
    """A command's help line as Markdown: ``key=value`` tokens and ``<placeholders>`` as code spans."""
    return _cell(_outside_code(text, lambda p: TOKEN.sub(lambda m: f"`{m.group(1)}`", p)))


def _first_clause(text: str) -> str:
    """The help line up to its first ': ', '; ' or '. ' outside brackets: the command table's summary."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "([" and 1 or (-1 if ch in ")]" else 0)
        if depth == 0 and text[i:i + 2] in {": ", "; ", ". "}:
            return text[:i]
    return text.rstrip(".")


def _default(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return None


def _value(value) -> str:
    if dataclasses.is_dataclass(value):
        return f"`{type(value).__name__}()`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    return f"`{value!r}`"


def _cli_value(value) -> str:
    if isinstance(value, tuple):
        return "`" + ",".join(str(v) for v in value) + "`" if value else "`()`"
    return f"`{value}`" if value not in ("", None) else "`None`" if value is None else '`""`'


def _type(field: dataclasses.Field, cls) -> str:
    try:
        hint = typing.get_type_hints(cls).get(field.name, field.type)
    except Exception:  # noqa: BLE001 (a forward reference the docs cannot resolve: show it as written)
        hint = field.type
    text = hint if isinstance(hint, str) else getattr(hint, "__name__", None) or str(hint)
    return "`" + str(text).replace("typing.", "").replace("NoneType", "None") + "`"


def _configs() -> dict[str, type]:
    """The public configs (``yoloprune.CONFIGS``, the package's own registry, when it has one) and ``CONFIGS``."""
    import yoloprune  # noqa: PLC0415

    wanted = [(module, name) for name, module in getattr(yoloprune, "CONFIGS", {}).items()]
    wanted += [(module, name) for module, name in CONFIGS if name not in {n for _, n in wanted}]
    order = {name: i for i, (_, name) in enumerate(CONFIGS)}
    found = {}
    for module, name in sorted(wanted, key=lambda mn: order.get(mn[1], len(order))):
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as e:
            log.info(f"config reference: {module}.{name} not there ({type(e).__name__}): left out")
            continue
        if dataclasses.is_dataclass(cls):
            found[name] = cls
    return found


def _config_fields(cls) -> list[tuple[dataclasses.Field, str]]:
    described = _attributes(cls.__doc__ or "")
    return [(f, described.get(f.name, "")) for f in dataclasses.fields(cls) if not f.name.startswith("_")]


# ----------------------------------------------------------------------------- generated pages
def gen_configs() -> str:
    parts = []
    for name, cls in _configs().items():
        parts.append(f"## `{name}`\n\n`{cls.__module__}.{name}`: {_md(_summary(cls.__doc__ or ''))}\n")
        rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
        commands = [c for c, names in COMMAND_CONFIGS.items() if name in names]
        for f, text in _config_fields(cls):
            text = text or next((KEY_HELP[c][f.name] for c in commands if f.name in KEY_HELP.get(c, {})), "")
            rows.append(f"| `{f.name}` | {_type(f, cls)} | {_value(_default(f))} | {_md(text)} |")
        parts.append("\n".join(rows) + "\n")
    return "\n".join(parts)


def _key_help(command: str, key: str, configs: dict[str, type]) -> str:
    field_name = RENAMED.get((command, key), key)
    for name in COMMAND_CONFIGS.get(command, []):
        cls = configs.get(name)
        if cls is None:
            continue
        for f, text in _config_fields(cls):
            if f.name == field_name and text:
                link = f"[`{name}`](configs.md#{name.lower()})"
                return f"{_md(text)} ({link})"
    if key in KEY_HELP.get(command, {}):
        return _md(KEY_HELP[command][key])
    log.warning(f"CLI reference: 'yolo-prune {command}' key '{key}' has no description: document it in its config's "
                "docstring (Attributes:) or in docs/hooks.py KEY_HELP")
    return ""


def gen_cli() -> str:
    from yoloprune import cli  # noqa: PLC0415 (after the offline environment above)

    configs = _configs()
    parts = ["| command | what it does |", "|---|---|"]
    for name, command in cli.COMMANDS.items():
        parts.append(f"| [`{name}`](#{name}) | {_help_md(_first_clause(command.help))}. |")
    parts = ["\n".join(parts) + "\n"]
    for name, command in cli.COMMANDS.items():
        defaults = command.defaults()
        for key in KEY_HELP.get(name, {}):
            if key not in defaults:
                log.warning(f"docs/hooks.py KEY_HELP['{name}']['{key}'] is stale: 'yolo-prune {name}' has no key '{key}'")
        rows = ["| key | default | meaning |", "|---|---|---|"]
        for key, value in defaults.items():
            rows.append(f"| `{key}` | {_cli_value(value)} | {_key_help(name, key, configs)} |")
        stage = cli.STAGE.get(name)
        more = (f"\nAnd every Ultralytics `{stage}` argument (see `yolo cfg`), passed through unchanged after "
                "Ultralytics' own type checks; yoloprune's keys keep priority.\n" if stage else "")
        aliases = [f"`{a}=` for `{k}=`" for a, k in cli.ALIASES.items() if k in defaults]
        deprecated = [f"`{old}=` (now `{new}=`)" for old, new in cli.DEPRECATED.get(name, {}).items()]
        notes = ("\nAlso accepted: " + ", ".join(aliases) + "." if aliases else "") + \
                ("\nDeprecated, still accepted with a warning: " + ", ".join(deprecated) + "." if deprecated else "")
        parts.append(f"## {name}\n\n```text\nyolo-prune {name} key=value ...\n```\n\n{_help_md(command.help)}\n\n"
                     + "\n".join(rows) + "\n" + more + notes + "\n")
    return "\n".join(parts)


# the API page that documents a module's objects (longest prefix wins); others are on the index page
API_PAGES = {
    "yoloprune.workflows": "workflows.md",
    "yoloprune.core.config": "config.md",
    "yoloprune.callbacks": "callbacks.md",
    "yoloprune.export": "export.md",
    "yoloprune.profiling": "profiling.md",
    "yoloprune.core.latency": "profiling.md",
    "yoloprune.benchmarking": "benchmarking.md",
}
GROUPS = {"VERBS": "Verbs", "CONFIGS": "Configs", "RESULTS": "Results and records",
          "INTEGRATION": "Ultralytics integration", "EXTENDING": "Extending: criteria, data, errors"}


def _api_link(name: str, module: str) -> str:
    page = next((API_PAGES[p] for p in sorted(API_PAGES, key=len, reverse=True) if module.startswith(p)), "index.md")
    return f"[`{name}`]({page})"


def gen_toplevel() -> str:
    import yoloprune  # noqa: PLC0415

    groups = {title: getattr(yoloprune, key) for key, title in GROUPS.items() if isinstance(getattr(yoloprune, key, None), dict)}
    if not groups:
        groups = {"Names": yoloprune._LAZY}  # noqa: SLF001 (the facade's own table)
    rows = ["| | `yoloprune.<name>` |", "|---|---|"]
    rows += [f"| {title} | " + ", ".join(_api_link(name, module) for name, module in names.items()) + " |"
             for title, names in groups.items()]
    return "\n".join(rows) + "\n"


GENERATORS = {"cli": gen_cli, "configs": gen_configs, "toplevel": gen_toplevel}


# ----------------------------------------------------------------------------- checks of user documents
FORBIDDEN = re.compile(r"(?i)\b(?:issue|stop)\s+#?\d+\b|\bcommit\s+[0-9a-f]{7,40}\b|\bagent tool\b")
CODE_BLOCK = re.compile(r"^([ \t]*)(```|~~~)[^\n]*\n(.*?)^\1\2[ \t]*$", re.S | re.M)
SKIP = "<!-- check: skip -->"
FILE_NAME = re.compile(r"\.(json|ya?ml|md|py|pt|txt|csv|png|log)$")  # yoloprune.json is a file, not a module
INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def _commands(text: str):
    """``yolo-prune`` invocations in a text: (command, [key=value tokens]) per line (``\\`` continues a line)."""
    text = re.sub(r"\\\n\s*", " ", text)
    for line in text.splitlines():
        m = re.search(r"(?:^|[\s`(])(?:\S*/)?yolo-prune\s+(.*)$", line)
        if not m:
            continue
        rest = m.group(1).split("#")[0].split("`")[0]
        rest = rest.split("|")[0].split(";")[0].split("&&")[0]
        try:
            tokens = shlex.split(rest)
        except ValueError:
            tokens = rest.split()
        if tokens:
            yield tokens[0], tokens[1:]


def _check_command(command: str, tokens: list[str], where: str) -> None:
    from yoloprune import cli  # noqa: PLC0415
    from yoloprune.errors import YoloPruneError  # noqa: PLC0415

    if command == "help":
        if tokens and not tokens[0].startswith("<") and tokens[0] not in cli.COMMANDS:
            log.warning(f"{where}: 'yolo-prune help {tokens[0]}': no such command")
        return
    if command.startswith("<") or command in {"...", "key=value"}:
        return
    if command not in cli.COMMANDS:
        log.warning(f"{where}: 'yolo-prune {command}': no such command (commands: {', '.join(cli.COMMANDS)})")
        return
    args = [t for t in tokens if "=" in t and not t.startswith("<") and t.partition("=")[0] != "debug"]
    if len(args) != len([t for t in tokens if not t.startswith("<") and t not in {"...", "\\"}]):
        loose = [t for t in tokens if "=" not in t and not t.startswith("<") and t not in {"...", "\\"}]
        if loose:
            log.warning(f"{where}: 'yolo-prune {command}': arguments must be key=value, not {loose}")
    # placeholder values (..., <path>) are fine: only the keys and Ultralytics' value types are checked
    args = [t if not re.search(r"=(\.\.\.|<.*>)?$", t) else t.partition("=")[0] + "=x" for t in args]
    args = [t for t in args if not t.endswith("=x") or t.partition("=")[0] in cli.COMMANDS[command].defaults()]
    try:
        cli.parse_args(command, args)
    except YoloPruneError as e:
        log.warning(f"{where}: 'yolo-prune {command} {' '.join(tokens)}': {e}")
    except (TypeError, ValueError):  # a placeholder value (epochs=N): the keys were checked, values are examples
        pass


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def _check_python(code: str, where: str) -> None:
    for m in re.finditer(r"^[ \t]*from[ \t]+(yoloprune[\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w \t,]+))", code, re.M):
        for name in (n.strip().split(" as ")[0] for n in (m.group(2) or m.group(3)).split(",")):
            if name and not _resolves(f"{m.group(1)}.{name}"):
                log.warning(f"{where}: 'from {m.group(1)} import {name}' does not resolve")
    for m in re.finditer(r"^\s*import\s+(yoloprune[\w.]*)", code, re.M):
        if not _resolves(m.group(1)):
            log.warning(f"{where}: 'import {m.group(1)}' does not resolve")
    for m in re.finditer(r"(?<![\w./-])(yoloprune(?:\.\w+)+)", code):
        if not FILE_NAME.search(m.group(1)) and not _resolves(m.group(1)):
            log.warning(f"{where}: '{m.group(1)}' does not resolve")


# verbs whose **options are a config's fields without saying so in an annotation
OPTIONS_OF = {"yoloprune.callbacks.add_pruning_callbacks": "ProgressiveConfig",
              "yoloprune.callbacks.pruning_callbacks": "ProgressiveConfig"}


def _object(dotted: str):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _config_class(name: str):
    import yoloprune  # noqa: PLC0415

    cls = getattr(yoloprune, name, None)
    return cls if dataclasses.is_dataclass(cls) else None


def _fields_of(cls) -> set[str]:
    names = {f.name for f in dataclasses.fields(cls)}
    if "prune" in names and cls.__name__ == "ProgressiveConfig":  # its PruneConfig's fields are given flat
        names |= {f.name for f in dataclasses.fields(_config_class("PruneConfig"))}
    return names


def _keywords(obj, dotted: str) -> set[str] | None:
    """The keyword arguments ``obj`` accepts (its parameters and, for ``**options``, its config's fields);
    None when anything goes (or it cannot be told)."""
    import inspect  # noqa: PLC0415

    if inspect.isclass(obj):
        return _fields_of(obj) if dataclasses.is_dataclass(obj) else None
    if not callable(obj):
        return None
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return None
    names = {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return names
    config = params.get("config")
    hint = str(config.annotation) if config is not None else ""
    found = [c for c in re.findall(r"\b([A-Z]\w*Config)\b", hint) if _config_class(c)]
    found = found or ([OPTIONS_OF[dotted]] if dotted in OPTIONS_OF else [])
    if not found:
        return None
    return names | set().union(*(_fields_of(_config_class(c)) for c in found))


def _check_calls(code: str, where: str) -> None:
    """Keyword arguments of calls into yoloprune (``yoloprune.prune(..., amount=0.5)``, ``PruneConfig(...)``)
    must be ones the function or its config takes."""
    import ast  # noqa: PLC0415

    import textwrap  # noqa: PLC0415

    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError as e:
        log.warning(f"{where}: a Python example does not parse ({e.msg}, line {e.lineno})")
        return
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("yoloprune"):
            names.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
        elif isinstance(node, ast.Import):
            names.update({a.asname or a.name: a.name for a in node.names if a.name.startswith("yoloprune")})

    def dotted(node):
        if isinstance(node, ast.Name):
            return names.get(node.id)
        if isinstance(node, ast.Attribute):
            base = dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = dotted(node.func)
        obj = _object(target) if target else None
        allowed = _keywords(obj, getattr(obj, "__module__", "") + "." + getattr(obj, "__name__", "")) if obj else None
        for kw in node.keywords:
            if kw.arg and allowed is not None and kw.arg not in allowed:
                log.warning(f"{where}: {target}(..., {kw.arg}=...): it takes no '{kw.arg}' "
                            f"(takes: {', '.join(sorted(allowed))})")


_KNOWN: set[str] = set()


def _known_keys() -> set[str]:
    """Every key a user can write: the commands' keys, the configs' fields and Ultralytics' own arguments."""
    if not _KNOWN:
        from yoloprune import cli  # noqa: PLC0415

        _KNOWN.update(k for c in cli.COMMANDS.values() for k in c.defaults())
        _KNOWN.update(cli.ALIASES, cli.ultralytics_keys(), cli.RESERVED, cli.EXPORT_RESERVED)  # refused keys too
        _KNOWN.update(f for cls in _configs().values() for f in _fields_of(cls))
    return _KNOWN


def check_document(markdown: str, where: str, base: Path | None = None) -> None:
    """Warn (a failed strict build) on every stale reference in a user document; see the module docstring."""
    for m in FORBIDDEN.finditer(markdown):
        log.warning(f"{where}: '{m.group(0)}': user documents cite no issue, stop, commit or session tooling")
    blocks = [(m.group(3), m.group(0).split("\n", 1)[0]) for m in CODE_BLOCK.finditer(markdown)
              if not markdown[:m.start()].rstrip().endswith(SKIP)]  # a block that shows a refused command
    prose = CODE_BLOCK.sub("", markdown)
    for code, fence in blocks:
        for command, tokens in _commands(code):
            _check_command(command, tokens, where)
        if "python" in fence or "py" == fence.strip("`~ ").strip():
            _check_python(code, where)
            _check_calls(code, where)
    for span in INLINE.findall(prose):
        for command, tokens in _commands(span):
            _check_command(command, tokens, where)
        python = "(" in span or "yoloprune." in span or "yolo-prune" in span  # code, checked above
        for key in re.findall(r"(?:^|\s)([a-z][a-z0-9_]*)=(?!=)", span) if not python else []:
            if key != "key" and key not in _known_keys():  # key=value: the syntax itself
                log.warning(f"{where}: '{span}': no command or config has a key '{key}'")
        if re.fullmatch(r"yoloprune(\.\w+)+", span.rstrip("()")) and not FILE_NAME.search(span):
            if not _resolves(span.rstrip("()")):
                log.warning(f"{where}: '{span}' does not resolve")
        elif span.startswith(("from yoloprune", "import yoloprune")):
            _check_python(span, where)
    if base is not None:  # README: its links into the repository must exist
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", prose):
            if "://" not in target and not (base / target).exists():
                log.warning(f"{where}: link to '{target}', which does not exist")


# ----------------------------------------------------------------------------- mkdocs events
README_LIMIT = 12_000


def on_pre_build(config) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if len(text) > README_LIMIT:
        log.warning(f"README.md is {len(text):,} characters: the front door stays under {README_LIMIT:,} "
                    "(move details into docs/)")
    check_document(text, "README.md", base=ROOT)


def on_page_markdown(markdown: str, page, config, files) -> str:
    where = page.file.src_uri

    def generated(m: re.Match) -> str:
        name = m.group(1)
        if name not in GENERATORS:
            log.warning(f"{where}: unknown generated section '{name}' (known: {', '.join(GENERATORS)})")
            return ""
        return GENERATORS[name]()

    def optional(m: re.Match) -> str:
        if _resolves(m.group(1)):
            return m.group(0).split("\n", 1)[1]
        log.info(f"{where}: {m.group(1)} is not there (yet): its optional API section is left out")
        return ""

    markdown = OPTIONAL.sub(optional, markdown)
    check_document(MARKER.sub("", markdown), where)
    return MARKER.sub(generated, markdown)


_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj|exc):(<code>[^<]*</code>|`[^`]*`)")


def on_page_content(content: str, page, config, files) -> str:
    """Sphinx roles left in rendered docstrings (``:class:`~a.b.C```) -> code spans showing ``C`` (or ``a.b.C``)."""

    def plain(m: re.Match) -> str:
        inner = re.sub(r"^<code>|</code>$|^`|`$", "", m.group(1))
        inner = html.unescape(inner)
        shown = inner[1:].rsplit(".", 1)[-1] if inner.startswith("~") else inner
        return f"<code>{html.escape(shown)}</code>"

    return _ROLE.sub(plain, content)
