"""Every convolution of a model as a function of the channels each prunable group keeps: the layer map that a
per-layer latency table is built on (each convolution timed alone at its input size, the model the sum).

:func:`layer_map` traces the model once (Torch-Pruning's dependency graph) and records, for every convolution
whose channels some group changes, its dense shape and which groups remove its output and input channels (a
concat takes several groups' channels). :meth:`LayerMap.shapes` then gives the exact shape of every such
convolution in the variant with given group widths, without pruning anything: the shapes ``pruned_to`` builds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch import nn

from .graph import traced
from .stats import forward_sizes


@dataclass(frozen=True)
class ConvShape:
    """One convolution as it runs: channels, kernel, stride, padding, dilation, groups and input height/width."""

    cin: int
    cout: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    hw: tuple[int, int]

    @property
    def depthwise(self) -> bool:
        return self.groups > 1 and self.groups == self.cin

    def with_channels(self, cin: int, cout: int) -> ConvShape:
        """This convolution with ``cin`` input and ``cout`` output channels (a depthwise one keeps both equal)."""
        if self.depthwise:
            c = max(1, min(cin, cout))
            return replace(self, cin=c, cout=c, groups=c)
        return replace(self, cin=max(1, cin), cout=max(1, cout))

    def key(self) -> str:
        """A compact, stable name of the shape (the layer cache's key)."""
        def pair(p):
            return f"{p[0]}x{p[1]}"
        return (f"c{self.cin}-{self.cout}-k{pair(self.kernel)}-s{pair(self.stride)}-p{pair(self.padding)}"
                f"-d{pair(self.dilation)}-g{self.groups}-i{pair(self.hw)}")

    def to_dict(self) -> dict:
        return {"cin": self.cin, "cout": self.cout, "kernel": list(self.kernel), "stride": list(self.stride),
                "padding": list(self.padding), "dilation": list(self.dilation), "groups": self.groups,
                "hw": list(self.hw)}

    @classmethod
    def from_dict(cls, d: dict) -> ConvShape:
        return cls(int(d["cin"]), int(d["cout"]), _pair(d["kernel"]), _pair(d["stride"]), _pair(d["padding"]),
                   _pair(d["dilation"]), int(d["groups"]), _pair(d["hw"]))

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one inference (for ordering and synthetic timers)."""
        h = (self.hw[0] + 2 * self.padding[0] - self.dilation[0] * (self.kernel[0] - 1) - 1) // self.stride[0] + 1
        w = (self.hw[1] + 2 * self.padding[1] - self.dilation[1] * (self.kernel[1] - 1) - 1) // self.stride[1] + 1
        return self.kernel[0] * self.kernel[1] * (self.cin // self.groups) * self.cout * h * w


@dataclass(frozen=True)
class ConvSite:
    """One convolution whose channels depend on prunable groups: ``out_groups`` / ``in_groups`` are (group, channels
    removed here per channel removed at the group's root), as many as feed it."""

    name: str
    dense: ConvShape
    out_groups: tuple[tuple[str, float], ...]
    in_groups: tuple[tuple[str, float], ...]

    def shape(self, removed: dict[str, int]) -> ConvShape:
        """Its shape when each group has ``removed[group]`` channels fewer than dense."""
        cout = self.dense.cout - sum(removed.get(g, 0) * f for g, f in self.out_groups)
        cin = self.dense.cin - sum(removed.get(g, 0) * f for g, f in self.in_groups)
        return self.dense.with_channels(int(round(cin)), int(round(cout)))

    def groups(self) -> set[str]:
        return {g for g, _ in self.out_groups + self.in_groups}

    def to_dict(self) -> dict:
        return {"name": self.name, "dense": self.dense.to_dict(), "out_groups": [list(g) for g in self.out_groups],
                "in_groups": [list(g) for g in self.in_groups]}

    @classmethod
    def from_dict(cls, d: dict) -> ConvSite:
        return cls(d["name"], ConvShape.from_dict(d["dense"]), tuple((str(g), float(f)) for g, f in d["out_groups"]),
                   tuple((str(g), float(f)) for g, f in d["in_groups"]))


@dataclass(frozen=True)
class LayerMap:
    """The model's prunable groups (dense widths) and the convolutions they change."""

    widths: dict[str, int]
    sites: tuple[ConvSite, ...]

    def shapes(self, widths: dict[str, int] | None = None) -> list[ConvShape]:
        """Every site's shape in the variant with these group widths (missing groups: dense), in site order."""
        removed = {g: self.widths[g] - w for g, w in (widths or {}).items() if g in self.widths}
        return [s.shape(removed) for s in self.sites]

    def sites_of(self, group: str) -> list[int]:
        """Indices of the sites that group changes."""
        return [i for i, s in enumerate(self.sites) if group in s.groups()]

    def only(self, names) -> LayerMap:
        """The map of a partial table: only the groups ``names`` vary, only the convolutions they change."""
        names = set(names)
        return LayerMap({g: w for g, w in self.widths.items() if g in names},
                        tuple(s for s in self.sites if s.groups() & names))

    def to_dict(self) -> dict:
        """As JSON holds it (a device's profile kit carries its model's map to the merge)."""
        return {"widths": dict(self.widths), "sites": [s.to_dict() for s in self.sites]}

    @classmethod
    def from_dict(cls, d: dict) -> LayerMap:
        return cls({str(g): int(w) for g, w in d["widths"].items()}, tuple(ConvSite.from_dict(s) for s in d["sites"]))


def _pair(v) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def channel_sides(dg, groups: list) -> dict[nn.Module, tuple[list, list]]:
    """For every module some group prunes: ``(out, in)``, lists of (group index, channels removed there per channel
    removed at the group's root) for its output and its input channels (a concat can repeat one group's)."""
    sides: dict[nn.Module, tuple[list, list]] = {}
    for gi, group in enumerate(groups):
        root = len(group[0][1])
        for dep, idxs in group:
            out, inp = sides.setdefault(dep.target.module, ([], []))
            (out if dg.is_out_channel_pruning_fn(dep.handler) else inp).append((gi, len(idxs) / root))
    return sides


def layer_map(model: nn.Module, imgsz: int, skip=()) -> LayerMap:
    """The :class:`LayerMap` of ``model`` at ``imgsz`` (traced on the model as it is; nothing is pruned).

    Only convolutions that run in an inference forward and whose channels some group changes are sites; the
    rest cost the same in every variant (the latency model's fixed part)."""
    with traced(model, skip) as pg:
        module_names = {m: n for n, m in model.named_modules()}
        names = [module_names[g[0][0].target.module] for g in pg.groups]
        widths = {name: len(g[0][1]) for name, g in zip(names, pg.groups)}
        convs = {m: s for m, s in channel_sides(pg.dg, pg.groups).items() if isinstance(m, nn.Conv2d)}
        sizes = forward_sizes(model, imgsz, list(convs))
        sites = tuple(
            ConvSite(module_names[m], ConvShape(m.in_channels, m.out_channels, _pair(m.kernel_size), _pair(m.stride),
                                                _pair(m.padding), _pair(m.dilation), m.groups, sizes[m][0]),
                     tuple((names[g], f) for g, f in out), tuple((names[g], f) for g, f in inp))
            for m, (out, inp) in convs.items() if m in sizes)
    return LayerMap(widths, sites)
