"""Bench results as a markdown table and as PNG figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekd.bench.run import OK

LEGEND = ("Status: ✅ exported and validated · ❎ exported, failed validation (parity with the "
          "torch checkpoint) · ❌ failed to export or to load")
_MARK = {OK: "✅", "exported, failed validation": "❎", "failed to export": "❌"}


def markdown(result: dict) -> str:
    lines = []
    for e in result["entries"]:
        head = f"### {e['input']}" + (f" (split {e['split']})" if e.get("split") else "")
        if e.get("macs") is not None:
            head += f": {e['model']} ({e['role']}), {e['parameters']:,} parameters, " \
                    f"{e['macs']:,} MACs/window"
        lines += [head, "", "| Format | Status | Size | Accuracy | p50 µs | p99 µs | windows/s "
                  f"(batch {result['batch']}) | Self-check |", "|---|---|---|---|---|---|---|---|"]
        for r in e["rows"]:
            if r["status"] == "failed to export":
                lines.append(f"| {r['format']} | {_MARK[r['status']]} | - | - | - | - | - | - |")
                continue
            b1, bn = r["latency_batch1"], r["latency_batchN"]
            lines.append(f"| {r['format']} | {_MARK[r['status']]} | {r['size_bytes'] / 1024:.1f} "
                         f"KiB | {r['accuracy']:.4f} | {b1['p50_us']:.0f} | {b1['p99_us']:.0f} | "
                         f"{bn['windows_per_s']:,.0f} | {self_check_cell(r.get('self_check'))} |")
        lines.append("")
    m = result["machine"]
    lines.append(f"{LEGEND}. Latency: a prepared window in, class probabilities out; at "
                 f"batch 1, {result['threads']} thread(s), cores "
                 f"{result['cores']}, {result['warmup']} warm-up + {result['runs']} timed runs; "
                 f"{m['cpu']}; torch {m['packages']['torch']}, onnxruntime "
                 f"{m['packages']['onnxruntime']}.")
    return "\n".join(lines) + "\n"


def self_check_cell(sc: dict | None) -> str:
    """The self-check replayed at load: status and relative logit error (export.selfcheck)."""
    if not sc:
        return "-"
    if sc.get("rel_error") is None:
        return sc["status"]
    return f"{sc['status']}, error {sc['rel_error']:.3f}"


def accuracy_vs_macs_png(result: dict, path: Path) -> Path | None:
    """One point per run and format (fp32 torch, INT8), joined by a line; runs labelled once."""
    from edgekd.plots import _pyplot, readable_log_axis, save_figure
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    drawn = set()  # what was drawn, so the legend lists nothing that is not on the plot
    for e in result["entries"]:
        acc = {r["format"]: r["accuracy"] for r in e["rows"] if r["status"] == OK}
        if not e.get("macs") or "torch" not in acc:
            continue
        drawn |= {"torch", e["role"]}
        marker = "o" if e["role"] == "teacher" else "s"
        ax.scatter(e["macs"], acc["torch"], marker=marker, color="tab:blue", s=45, zorder=3)
        if "onnx-int8" in acc:
            ax.plot([e["macs"]] * 2, [acc["torch"], acc["onnx-int8"]], color="grey", lw=0.8)
            ax.scatter(e["macs"], acc["onnx-int8"], marker=marker, color="tab:red", s=30, zorder=3)
            drawn.add("onnx-int8")
        ax.annotate(f"{Path(e['input']).name}: {e['model']}", (e["macs"], acc["torch"]),
                    fontsize=7, xytext=(5, 5), textcoords="offset points")
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xscale("log")
    readable_log_axis(ax.xaxis)
    for key, style in (("torch", {"color": "tab:blue", "label": "fp32 (torch)"}),
                       ("onnx-int8", {"color": "tab:red", "label": "INT8 (ONNX)"}),
                       ("teacher", {"marker": "o", "color": "grey", "label": "teacher"}),
                       ("student", {"marker": "s", "color": "grey", "label": "student"})):
        if key in drawn:
            ax.scatter([], [], **style)
    ax.legend(fontsize=7)
    ax.set(xlabel="MACs per window (log)", ylabel="test accuracy", title="accuracy vs compute")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def latency_png(result: dict, path: Path) -> Path | None:
    from edgekd.plots import _pyplot, readable_log_axis, save_figure
    series = [(f"{Path(e['input']).name} {r['format']}", np.array(r["latency_us"]))
              for e in result["entries"] for r in e["rows"] if r.get("latency_us")]
    if not series:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(series) + 2))
    import matplotlib
    # `orientation` replaced `vert` in Matplotlib 3.10 (and `vert` warns from 3.11)
    horizontal = ({"orientation": "horizontal"} if tuple(map(int, matplotlib.__version__.split(
        ".")[:2])) >= (3, 10) else {"vert": False})
    ax.boxplot([s for _, s in series], whis=(1, 99), showfliers=False, **horizontal)
    ax.set_yticks(range(1, len(series) + 1), [n for n, _ in series], fontsize=8)
    ax.set_xscale("log")
    readable_log_axis(ax.xaxis)
    ax.set(xlabel="batch-1 latency, µs (log; whiskers p1–p99)",
           title="latency distribution per backend")
    return save_figure(fig, path)
