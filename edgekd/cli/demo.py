"""``edgekd demo``: the whole toolkit on embedded synthetic data, under 5 minutes on 2 cores."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from edgekd.cli.console import console


def demo(out: Annotated[Path, typer.Option(help="Where to put everything the demo makes.")]
         = Path("edgekd-demo"),
         quick: Annotated[bool, typer.Option(help="Smaller and shorter, for CI.")] = False,
         view: Annotated[bool, typer.Option(help="Live terminal view while streaming.")] = True,
         ) -> None:
    """Synthesise → train a teacher → distill a student → compare → export INT8 → benchmark →
    stream from an emulated armband into the deployed student."""
    from edgekd.demo import DemoPlan, prepare_out

    start = time.perf_counter()
    plan = DemoPlan.make(quick)
    prepare_out(out)
    made: list[tuple[str, str, Path]] = []

    console.rule("1/7 synthesise an armband dataset (8 ch + a paired 16-ch ring, 200 Hz)")
    data = _synthesize(out, plan, made)

    console.rule(f"2/7 train a teacher ({plan.teacher}) per person")
    teacher = _train(data, plan.teacher, plan.teacher_epochs, out / "teacher", made,
                     ("teacher run", "metrics.json, confusion.png, curves.png"))

    console.rule(f"3/7 distill a compact student ({plan.student}), and the same student "
                 "without KD")
    kd_settings = {"kd.teachers": [str(teacher)], "kd.temperature": 4.0}
    runs = {name: _train(data, plan.student, plan.student_epochs, out / name, made,
                         (f"{name} run", f"alpha={alpha}"), **kd_settings, **{"kd.alpha": alpha})
            for name, alpha in (("student-nokd", 0.0), ("student-kd", 0.5))}

    console.rule("4/7 paired comparison over people (same init, splits, seeds)")
    _compare(runs, teacher, made)

    console.rule("5/7 export the student to INT8 ONNX, with its parity report")
    person = "P00"
    artifact = _export(runs["student-kd"], person, out / "student.int8.onnx", made)

    console.rule("6/7 benchmark teacher vs student vs INT8 (1 thread)")
    _bench(out, teacher, runs["student-kd"], person, plan, made)

    console.rule(f"7/7 stream: emulated armband on a pty → firmware_bridge → {artifact.name}")
    _stream(artifact, data, person, plan, view, made)

    console.rule("done")
    table = Table("what", "details", "where", title=f"edgekd demo: made in "
                  f"{time.perf_counter() - start:.0f} s")
    for what, details, where in made:
        table.add_row(what, details, str(where))
    console.print(table)


def _synthesize(out: Path, plan, made: list) -> Path:
    from edgekd.cli.data import print_summary, synthesize_with_progress
    from edgekd.data import native
    from edgekd.data.readers import read_dataset
    from edgekd.data.summary import summarize
    from edgekd.demo import synth_config

    data = out / "data"
    native.write_dataset(synthesize_with_progress(synth_config(plan)), data)
    print_summary(summarize(read_dataset(data)))
    made.append(("dataset", "native format, per-sample labels", data))
    return data


def _train(data: Path, model: str, epochs: int, run_dir: Path, made: list,
           listing: tuple[str, str], **overrides) -> Path:
    from edgekd.cli.train import print_metrics, run_with_progress
    from edgekd.demo import train_config
    from edgekd.train.run import train_run

    cfg = train_config(data, model, epochs, **overrides)
    print_metrics(run_with_progress(lambda rep: train_run(cfg, run_dir, reporter=rep)), run_dir)
    made.append((*listing, run_dir))
    return run_dir


def _export(run_dir: Path, person: str, artifact: Path, made: list) -> Path:
    from edgekd.cli.export import print_report
    from export.pipeline import ExportRequest, export_run

    from edgekd.cli.console import working

    with working("export onnx-int8 with its parity check"):
        report = export_run(ExportRequest(run_dir, "onnx-int8", out=artifact, split=person))
    print_report(report)
    made.append(("INT8 artifact", f"person {person}, self-describing", artifact))
    made.append(("parity report", "max |Δlogit|, agreement, accuracy delta",
                 artifact.parent / "export_report.json"))
    return artifact


def _compare(runs: dict, teacher: Path, made: list) -> None:
    from edgekd.distill.compare import compare_runs, paired_plot, to_markdown
    result = compare_runs([runs["student-nokd"], runs["student-kd"], teacher])
    png = paired_plot(result, runs["student-kd"].parent / "compare.png")
    console.print(to_markdown(result))
    console.print(kd_verdict(result["versus_baseline"][0]), soft_wrap=True)
    made.append(("paired comparison", "per-person dot plot, Wilcoxon p", png))


def kd_verdict(pair: dict) -> str:
    """What the demo's KD-vs-no-KD row means, in words: with a handful of synthetic people and
    a few epochs the difference is noise either way, and the demo says so."""
    diff, n, p = 100 * pair["mean_diff"], pair["n"], pair["wilcoxon_p"]
    sign = "helped" if diff > 0 else "hurt" if diff < 0 else "did not change"
    verdict = (f"KD {sign} the student here by {abs(diff):.1f} pp over {n} people "
               f"(Wilcoxon p = {p:.2f})")
    if p >= 0.05:
        small = " (with n <= 5 no two-sided Wilcoxon p can fall below 0.05)" if n <= 5 else ""
        verdict += (": not a significant difference. The demo's few people and epochs cannot "
                    f"show KD's effect either way{small}. What KD does on 22 real people, "
                    "paired and tested, is in benchmarks/results/distill_myo.md (the README's "
                    "Results).")
    return verdict


def _bench(out: Path, teacher: Path, student: Path, person: str, plan, made: list) -> None:
    from edgekd.atomic import write_json_atomic
    from edgekd.bench.report import accuracy_vs_macs_png, latency_png, markdown
    from edgekd.bench.run import BenchOptions, bench
    from edgekd.cli.console import progress

    # the student in torch and INT8, the teacher in torch only (its export would only slow the
    # demo down): three rows, so the bar counts to 3
    plans = ((student, ("torch", "onnx-int8")), (teacher, ("torch",)))
    with progress("benchmarking", sum(len(f) for _, f in plans)) as advance:
        parts = [bench(BenchOptions([run], formats=fmts, split=person, runs=plan.bench_runs,
                                    warmup=20, work=out / "bench" / "artifacts"),
                       on_row=lambda e, r: advance()) for run, fmts in plans]
    result = {**parts[0], "entries": [e for part in parts for e in part["entries"]]}
    console.print(markdown(result))
    accuracy_vs_macs_png(result, out / "bench" / "accuracy_vs_macs.png")
    latency_png(result, out / "bench" / "latency.png")
    for e in result["entries"]:
        for r in e["rows"]:
            r.pop("latency_us", None)  # raw samples: in the PNG, not the JSON
    write_json_atomic(out / "bench" / "bench.json", result)
    made.append(("benchmark", "bench.json, accuracy_vs_macs.png, latency.png", out / "bench"))


def _stream(artifact: Path, data: Path, person: str, plan, view: bool, made: list) -> None:
    from edgekd.cli.stream import print_summary
    from edgekd.demo import stream_demo
    from export.runtime import read_metadata

    from edgekd.atomic import write_json_atomic
    from firmware_bridge.sinks import JsonLinesSink

    labels = read_metadata(artifact)["label_names"]
    decisions = artifact.parent / "stream_decisions.jsonl"
    sinks = [JsonLinesSink(str(decisions), labels)]
    from edgekd.cli.console import err_console, working

    if view and err_console.is_terminal:  # off a terminal the live view would show nothing
        from firmware_bridge.view import TerminalView
        with TerminalView(labels) as tv:
            report = stream_demo(artifact, data, person, plan.stream_seconds, plan.stream_speed,
                                 on_tick=tv.tick, sinks=sinks + [tv.sink])
    else:
        with working(f"streaming person {person} into {artifact.name}"):
            report = stream_demo(artifact, data, person, plan.stream_seconds,
                                 plan.stream_speed, sinks=sinks)
    print_summary(report)
    write_json_atomic(artifact.parent / "stream_summary.json", report)
    made.append(("live stream decisions", f"{report['decisions']} decisions from {report['pty']}"
                 f", online accuracy {report['online_accuracy']:.3f}, latency p50 "
                 f"{report['latency_ms_p50']:.2f} ms", decisions))
    made.append(("stream summary", "latencies, losses, accuracy",
                 artifact.parent / "stream_summary.json"))
