import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_quick_demo_end_to_end(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "edgekd", "demo", "--quick", "--no-view",
                             "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    for path in ("data/dataset.json", "teacher/metrics.json", "teacher/confusion.png",
                 "student-kd/metrics.json", "student-nokd/metrics.json", "compare.png",
                 "student.int8.onnx", "export_report.json", "bench/bench.json",
                 "bench/latency.png", "bench/accuracy_vs_macs.png", "stream_decisions.jsonl",
                 "stream_summary.json"):
        assert (out / path).is_file(), path
    # output captured, not a terminal: every long stage printed plain progress lines
    for line in ("synthesising people: 2/2 (100%)", "splits: 2/2 (100%)",
                 "export onnx-int8 with its parity check: done", "benchmarking: 3/3 (100%)",
                 "streaming person P00 into student.int8.onnx: done"):
        assert line in result.stderr, line
    summary = json.loads((out / "stream_summary.json").read_text())
    assert summary["decisions"] > 50 and summary["frames_missing"] == 0
    assert summary["online_accuracy"] > 0.5
    kd = json.loads((out / "student-kd/metrics.json").read_text())
    assert kd["kd"]["teachers"][0]["run"] == str(out / "teacher")
    # a second demo into the same folder replaces it; a foreign folder is refused
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/notes.txt").write_text("keep me")
    refused = subprocess.run([sys.executable, "-m", "edgekd", "demo", "--quick", "--out",
                              str(tmp_path / "mine")], capture_output=True, text=True)
    assert refused.returncode == 1 and (tmp_path / "mine/notes.txt").exists()
