"""How many channels each dependency group keeps: global / local allocation hitting a ratio, MACs or params target.

Costs are predicted analytically (conv and BN MACs / parameters as a function of the channels each
group keeps, everything else constant) so the target search is arithmetic, not trial pruning; the
engine then measures the pruned model for real.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch_pruning as tp
from torch import nn

from .config import PruneConfig
from .latency import LatencyTable, knapsack
from .layers import channel_sides
from ..errors import ConfigError, UnreachableTargetError
from .plan import partners
from .stats import forward_sizes


@dataclass
class _Layer:
    module: nn.Module
    cin: int
    cout: int
    depthwise: bool
    out_groups: list  # (group index, channels pruned here per channel pruned at the group's root)
    in_groups: list  # the same for input channels (a concat can repeat one group's channels)
    hw: int  # output positions at the traced image size (0 when the layer does not run at inference)


class CostModel:
    """MACs and parameter counts of a model as a function of each group's kept channels."""

    def __init__(self, model: nn.Module, dg: tp.DependencyGraph, groups: list, imgsz: int, dense_macs: float, dense_params: int):
        self.n = np.array([len(g[0][1]) for g in groups])
        sizes = forward_sizes(model, imgsz, [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))])
        hw = {m: out[0] * out[1] for m, (_, out) in sizes.items()}  # output positions (0: does not run at inference)
        self.layers: list[_Layer] = []
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                dw = m.groups > 1 and m.groups == m.in_channels
                self.layers.append(_Layer(m, m.in_channels, m.out_channels, dw, [], [], hw.get(m, 0)))
            elif isinstance(m, nn.BatchNorm2d):
                self.layers.append(_Layer(m, m.num_features, m.num_features, False, [], [], hw.get(m, 0)))
        sides = channel_sides(dg, groups)
        for layer in self.layers:
            out, inp = sides.get(layer.module, ((), ()))
            layer.out_groups.extend(out)
            layer.in_groups.extend(inp)
        keep_all = self.n.copy()
        macs, params = self._costs(keep_all)
        self.const_macs, self.const_params = dense_macs - macs, dense_params - params
        self.dense_macs, self.dense_params = dense_macs, dense_params

    def _costs(self, keep: np.ndarray) -> tuple[float, int]:
        pruned = self.n - keep
        macs = params = 0
        for layer in self.layers:
            cout = layer.cout - sum(pruned[g] * f for g, f in layer.out_groups)
            cin = layer.cin - sum(pruned[g] * f for g, f in layer.in_groups)
            if isinstance(layer.module, nn.BatchNorm2d):
                macs, params = macs + 2 * cout * layer.hw, params + 2 * cout
                continue
            m = layer.module
            k = math.prod(m.kernel_size)  # MACs per output position and (in, out) channel pair
            if layer.depthwise:
                c = min(cout, cin)
                weights = k * c
                bias = c if m.bias is not None else 0
            else:
                weights = k * (cin // m.groups) * cout
                bias = cout if m.bias is not None else 0
            macs += weights * layer.hw
            params += weights + bias
        return macs, params

    def macs(self, keep: np.ndarray) -> float:
        return self.const_macs + self._costs(keep)[0]

    def params(self, keep: np.ndarray) -> float:
        return self.const_params + self._costs(keep)[1]


def _sensitivity_limits(path: str, max_drop: float) -> dict[str, float]:
    """Per group, the largest removed fraction whose measured mAP drop stayed within ``max_drop``."""
    try:
        table = json.loads(Path(path).read_text())
        ratios, groups = table["ratios"], table["groups"]
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError(f"sensitivity table {path} is not readable ({e}): write one with yolo-prune sensitivity")
    return {name: max([r for r, d in zip(ratios, g["drop"]) if d <= max_drop], default=0.0)
            for name, g in groups.items()}


def _allowed_widths(n: int, floor: int, round_to: int) -> list[int]:
    """Widths a group may keep, ascending: multiples of ``round_to`` (or ``n`` itself), at least ``floor``."""
    allowed = sorted({c for c in range(round_to, n + 1, round_to)} | {n})
    return [c for c in allowed if c >= min(floor, n)] or [n]


def _round_keep(keep: float, n: int, floor: int, round_to: int) -> int:
    """Nearest allowed width to ``keep``."""
    return min(_allowed_widths(n, floor, round_to), key=lambda c: (abs(c - keep), -c))


class Allocator:
    """Turns one scalar ``s`` in [0, 1] into kept widths per group, monotonically; searches ``s`` for a target."""

    def __init__(self, scores: list[torch.Tensor], pairs: list[tuple[int, int]], cost: CostModel, cfg: PruneConfig,
                 names: list[str] | None = None, planned: bool = False):
        self.scores = [s.detach().float().cpu().numpy() for s in scores]
        self.n = np.array([len(s) for s in self.scores])
        self.pairs, self.cost, self.cfg, self.names = pairs, cost, cfg, names or []
        self.latency = None  # the measured latency table, for target=latency
        if cfg.target == "latency":
            self.latency = LatencyTable.load(cfg.latency_table)
            # planned: the widths are given (a progressive run's later steps, on a model pruned before), not searched
            self.latency.check_model(dict(zip(self.names, (int(n) for n in self.n))), pruned_ok=planned)
        self.round_to = self.latency.round_to() if cfg.round_to == "auto" and self.latency else cfg.round_to
        self.floor = np.maximum(cfg.min_channels, np.ceil(self.n * (1 - cfg.max_layer_ratio))).astype(int)
        if cfg.allocation == "sensitivity":  # per-group limits measured on the model: global within them
            limits = _sensitivity_limits(cfg.sensitivity_table, cfg.sensitivity_drop)
            cap = np.array([limits.get(name, 0.0) for name in self.names])
            self.floor = np.maximum(self.floor, np.ceil(self.n * (1 - cap))).astype(int)
            for a, b in pairs:  # split halves keep equal widths: the stricter limit holds for both
                self.floor[a] = self.floor[b] = max(self.floor[a], self.floor[b])
        # global rank of every channel (ties broken by position, so equal scores still allocate)
        pooled = np.concatenate(self.scores) if self.scores else np.zeros(0)
        rank = np.empty(len(pooled))
        rank[np.argsort(pooled, kind="stable")] = np.arange(len(pooled))
        self.ranks = np.split(rank, np.cumsum(self.n)[:-1]) if self.scores else []

    def keep(self, s: float) -> np.ndarray:
        if self.cfg.allocation in ("global", "sensitivity"):
            cut = s * self.n.sum()
            raw = np.array([(r >= cut).sum() for r in self.ranks], dtype=float)
        else:
            raw = self.n * (1 - s)
        for a, b in self.pairs:  # stock split blocks need both halves equally wide
            raw[a] = raw[b] = (raw[a] + raw[b]) / 2
        return np.array([_round_keep(k, n, f, self.round_to) for k, n, f in zip(raw, self.n, self.floor)])

    def measure(self, keep: np.ndarray) -> float:
        """The quantity the target is about: removed channel fraction, or kept MACs / params fraction."""
        if self.cfg.target == "ratio":
            return 1 - keep.sum() / self.n.sum()
        if self.cfg.target == "macs":
            return self.cost.macs(keep) / self.cost.dense_macs
        if self.cfg.target == "latency":
            return self.latency.predict(self.widths(keep)) / self.latency.dense_ms
        return self.cost.params(keep) / self.cost.dense_params

    def widths(self, keep: np.ndarray) -> dict[str, int]:
        return {name: int(k) for name, k in zip(self.names, keep)}

    def allowed(self, g: int) -> list[int]:
        return _allowed_widths(int(self.n[g]), int(self.floor[g]), self.round_to)

    def search(self) -> np.ndarray:
        """Kept widths whose predicted measure is closest to ``cfg.amount``; raise if outside tolerance.

        ``target=latency`` predicts the measure from the latency table; ``allocation=knapsack`` spends the budget
        (``amount`` x the dense model's measured latency) over the table instead: channels go where importance
        per millisecond saved is lowest.
        """
        if self.cfg.allocation == "knapsack":
            return knapsack(self.scores, [self.allowed(g) for g in range(len(self.n))], self.names, self.pairs,
                            self.latency, self.cfg.amount * self.latency.dense_ms)
        goal, lo, hi = self.cfg.amount, 0.0, 1.0
        increasing = self.cfg.target == "ratio"  # removed fraction grows with s; kept MACs/params shrink
        best = (math.inf, self.n.copy())
        for _ in range(40):
            s = (lo + hi) / 2
            keep = self.keep(s)
            value = self.measure(keep)
            best = min(best, (abs(value - goal), keep), key=lambda t: t[0])
            if (value < goal) == increasing:
                lo = s
            else:
                hi = s
        error, keep = best
        if error > self.cfg.tolerance * goal:
            keep = self._nudge(keep, goal)
            error = abs(self.measure(keep) - goal)
        if error > self.cfg.tolerance * goal:
            reach = [self.measure(self.keep(s)) for s in (0.0, 1.0)]
            raise UnreachableTargetError(
                f"{self.cfg.target}={goal} cannot be reached within ±{self.cfg.tolerance:.0%} "
                f"(closest: {self.measure(keep):.3f}; reachable range {min(reach):.3f}-{max(reach):.3f} with "
                f"min_channels={self.cfg.min_channels}, round_to={self.round_to}, max_layer_ratio={self.cfg.max_layer_ratio}"
                + (f", the sensitivity limits at sensitivity_drop={self.cfg.sensitivity_drop}"
                   if self.cfg.allocation == "sensitivity" else "")
                + "): choose an amount in that range or relax those options"
            )
        return keep

    def _nudge(self, keep: np.ndarray, goal: float) -> np.ndarray:
        """Move single groups one allowed width toward ``goal`` until it is within tolerance.

        Rounding every layer alike (``local`` allocation, ``round_to=8`` on a nano model) makes the
        measure jump in steps coarser than the tolerance; the least evenly pruned group moves first,
        so the widths stay close to the uniform plan (within two rounding steps on the nano models).
        """
        partner = partners(self.pairs)
        increasing = self.cfg.target == "ratio"
        while True:
            value = self.measure(keep)
            error = abs(value - goal)
            if error <= self.cfg.tolerance * goal / 2:  # well inside, not on the edge of the tolerance
                return keep
            shrink = (value < goal) == increasing  # too much kept: narrow a group
            order = np.argsort(keep / self.n, kind="stable")
            for k in order[::-1] if shrink else order:
                allowed = self.allowed(k)
                i = allowed.index(keep[k]) + (-1 if shrink else 1)
                if not 0 <= i < len(allowed):
                    continue
                trial = keep.copy()
                trial[k] = allowed[i]
                if k in partner:
                    trial[partner[k]] = allowed[i]
                if abs(self.measure(trial) - goal) < error:
                    keep = trial
                    break
            else:
                return keep

    def removed_channels(self, keep: np.ndarray) -> list[list[int]]:
        """For each group, the channel indices to remove (lowest scores first)."""
        return [np.argsort(r)[: n - k].tolist() for r, n, k in zip(self.ranks, self.n, keep)]
