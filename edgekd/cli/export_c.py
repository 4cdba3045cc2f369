"""``edgekd export --format c``: the steps with a progress bar, and the report as tables."""

from __future__ import annotations

from rich.table import Table

from edgekd.cli.console import console, progress


def export_c_with_progress(req) -> None:
    from export.c.pipeline import STEPS, export_c

    with progress("export c", total=len(STEPS)) as advance:
        seen = []

        def on_step(name: str) -> None:
            if seen:
                advance()
            seen.append(name)

        report = export_c(req, on_step=on_step)
        advance()
    print_c_report(report)


def print_c_report(r: dict) -> None:
    table = Table("check", "result", title=f"C library vs the torch checkpoint and the INT8 "
                  f"ONNX artifact, on {r['n_windows']} held-out windows of split {r['split']} "
                  "(raw samples through the whole path)")
    rows = [("top-1 agreement (torch)", f"{r['top1_agreement']:.4f} (needs >= "
                                        f"{r['min_agreement']})"),
            ("top-1 agreement (INT8 ONNX)", f"{r['agreement_with_onnx_int8']:.4f}"),
            ("network logits = ONNX Runtime's", f"{r['network_logits_identical']:.4f} of windows"),
            ("accuracy torch → ONNX INT8 → C", f"{r['accuracy_torch']:.4f} → "
                                               f"{r['accuracy_onnx_int8']:.4f} → "
                                               f"{r['accuracy_artifact']:.4f}"),
            ("host build = reference", _checked(r["host"], lambda h: f"bit-exact on "
                                                f"{h['windows']} windows and "
                                                f"{h['stream_decisions']} streamed decisions")),
            ("Cortex-M4 size", _checked(r["arm"], lambda a: f".text {a['text']} .data "
                                        f"{a['data']} .bss {a['bss']} bytes; stack <= "
                                        f"{a['stack_bound']}")),
            ("QEMU mps2-an386", _checked(r["qemu"], lambda q: f"bit-exact; "
                                         f"{q['instructions_network']:.0f} instructions per "
                                         "network run (instructions, not cycles)")),
            ("parity", "[green]pass" if r["passed"] else "[red]FAIL")]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    for note in r.get("notes", []):
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"library: {r['artifact'] if r['written'] else '(not written)'}")


def _checked(part: dict, describe) -> str:
    return describe(part) if part.get("checked") else f"[yellow]not checked:[/] {part['reason']}"
