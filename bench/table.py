"""The bench's one table: a row per figure, the baseline (podman's service,
or the podman process run directly where the figure says so), podproxy,
the ratio podproxy/baseline, the target and whether it holds.

A target is written as it reads: ``<= 1.0x`` / ``>= 1.5x`` (the ratio),
``<= +5 ms`` (podproxy minus the baseline), ``0 errors`` (podproxy's
count; the service's is printed beside it),
``<= 100 MiB`` (podproxy's value). ``holds`` is ``yes``, ``NO`` or empty
(no target).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass
class Row:
    figure: str
    service: float
    podproxy: float
    target: str = ""
    better: str = "lower"  # for the chart: which side of 1.0 is podproxy's win

    @property
    def ratio(self) -> float:
        return self.podproxy / self.service if self.service else float("nan")

    @property
    def holds(self) -> str:
        t = self.target
        if not t:
            return ""
        if t.startswith("<= +") and t.endswith(" ms"):
            ok = self.podproxy - self.service <= float(t[4:-3])
        elif t.endswith("x"):
            limit = float(t[3:-1])
            ok = self.ratio <= limit if t.startswith("<=") else self.ratio >= limit
        elif t == "0 errors":
            ok = self.podproxy == 0
        elif t.startswith("<= ") and t.endswith(" MiB"):
            ok = self.podproxy <= float(t[3:-4])
        else:
            raise ValueError(f"unknown target: {t!r}")
        return "yes" if ok else "NO"


def print_table(rows: list, out=sys.stdout) -> None:
    width = max(len(r.figure) for r in rows)
    print(f"{'figure':<{width}} {'service':>10} {'podproxy':>10} {'ratio':>8}  {'target':<11} holds", file=out)
    for r in rows:
        ratio = f"{r.ratio:7.2f}x" if r.service else f"{'-':>8}"
        print(f"{r.figure:<{width}} {r.service:10.2f} {r.podproxy:10.2f} {ratio}  {r.target:<11} {r.holds}",
              file=out, flush=True)


def chart(rows: list, path: str) -> None:
    """The ratios as horizontal bars (matplotlib: ``pip install '.[bench]'``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.service and r.ratio == r.ratio and r.podproxy]
    fig, ax = plt.subplots(figsize=(10, 0.22 * len(shown) + 1.5))
    colors = ["tab:green" if (r.ratio <= 1) == (r.better == "lower") else "tab:red" for r in shown]
    ax.barh([r.figure for r in shown], [r.ratio for r in shown], color=colors)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("podproxy / baseline (log scale; green = podproxy better)")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
