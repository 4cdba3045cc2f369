"""Rewrites the README's results section from the committed benchmark results (a test checks
that the README matches them): numbers in the README are never typed by hand.

    python -m benchmarks.readme
"""

from __future__ import annotations

from pathlib import Path

from edgekd.cli.reference import replace_section

HERE = Path(__file__).parent
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
SECTIONS = [  # (title, results file, command)
    ("Training on real Myo recordings (22 people, per person, test = repetition 4)",
     "train_myo.md", "python -m benchmarks.train_myo --models cnn,mkcnn"),
    ("Knowledge distillation on the same people", "distill_myo.md",
     "python -m benchmarks.distill_myo"),
    ("What the KD literature suggests, on the same 22 people (each against a no-KD student "
     "trained the same way)",
     "distill_sweep.md", "python -m benchmarks.distill_sweep"),
    ("Why KD gains little here: the teacher's soft targets on the windows the student trains on",
     "kd_diagnostics.md", "python -m benchmarks.kd_diagnostics"),
    ("Cross-fitted soft targets for the 4-electrode student", "distill_crossfit.md",
     "python -m benchmarks.distill_crossfit"),
    ("INT8 export of the CNN student (22 people)", "export_myo.md",
     "python -m benchmarks.export_myo"),
    ("INT8 recipes for every student in the zoo, on this CPU and on any CPU",
     "int8_recipes.md", "python -m benchmarks.int8_recipes"),
    ("Latency, size and accuracy per format (one person's split, 1 thread, 1 core)",
     "bench_myo.md", "python -m benchmarks.bench_myo"),
    ("The students on the armband's microcontroller: the C library (Cortex-M4, 22 people)",
     "mcu_export.md", "python -m benchmarks.mcu_export"),
    ("Decision policy defaults (`--threshold`, `--vote`): the held-out repetition of 22 people "
     "streamed through the live path", "decision_policy.md",
     "python -m benchmarks.decision_policy --run benchmarks/runs/train_myo-cnn"),
    ("firmware_bridge: frame sent → decision through a pty, real-time factor on one core",
     "bridge_latency.md", "python -m benchmarks.bridge_latency"),
    ("Framing under damage (10⁶ frames per protocol; why edgekd-v2 has a CRC-32)",
     "framing_fuzz.md", "python -m benchmarks.framing_fuzz"),
    ("Trainer throughput on a GPU: device-resident data + bf16 vs a DataLoader loop",
     "trainer_throughput_cuda.md", "python -m benchmarks.trainer_throughput --device cuda "
     "--compile"),
    ("Trainer throughput on this CPU (reference)", "trainer_throughput_cpu.md",
     "python -m benchmarks.trainer_throughput --device cpu --model cnn --epochs 3"),
]


def render() -> str:
    parts = []
    for title, name, command in SECTIONS:
        path = HERE / "results" / name
        body = path.read_text().strip() if path.is_file() else "_not measured yet: no session so far had the machine it needs_"
        parts.append(f"#### {title}\n\n{body}\n\n<sub>`{command}` → "
                     f"`benchmarks/results/{name.replace('.md', '.json')}`</sub>\n")
    return "\n".join(parts)


def main() -> None:
    readme = HERE.parent / "README.md"
    readme.write_text(replace_section(readme.read_text(), BEGIN, END, render()))


if __name__ == "__main__":
    main()
