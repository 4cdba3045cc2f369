"""``edgekd export --format c`` end to end on a trained tiny student: the library is written,
compiled with the host compiler and found bit-exact with the integer reference, and agrees
with the INT8 ONNX artifact; the Cortex-M4 checks run when the ARM tools are installed and
say why not otherwise."""

import json
import subprocess
import sys

import pytest

from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.errors import ConfigError, EdgekdError
from edgekd.train.config import resolve
from edgekd.train.run import train_run
from export.c import toolchain
from export.pipeline import ExportRequest, export_run

# the synthetic armband is in µV floats: counts of 0.01 µV need more than 16 bits
SAMPLES = dict(sample_scale=0.01, sample_bits=24)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("c")
    data = root / "data"
    native.write_dataset(synthesize(SynthConfig(people=1, sessions=1, hold_s=2.0, seed=7)), data)
    out = {}
    for name in ("micro_tcn_tiny", "gru_tiny"):
        cfg = resolve(overrides={"data.path": str(data), "model": name, "data.hop": 10,
                                 "optim.epochs": 2, "device": "cpu"})
        train_run(cfg, root / name)
        out[name] = root / name
    return out


def test_export_c_writes_a_checked_library(runs, tmp_path):
    out = tmp_path / "lib"
    r = export_run(ExportRequest(runs["micro_tcn_tiny"], "c", out=out, min_agreement=0.8,
                                 **SAMPLES))
    assert r["written"] and r["passed"]
    for name in ("edgekd.h", "edgekd.c", "edgekd_model.h", "model.int8.onnx", "README.md",
                 "test/harness.c", "test/Makefile", "test/harness_data.h", "test/expected.txt"):
        assert (out / name).is_file(), name
    assert r["network_logits_identical"] >= 0.99
    assert r["agreement_with_onnx_int8"] >= 0.95
    assert any("not whole counts" in n for n in r["notes"])     # synthetic µV were rounded
    if toolchain.find_tools().host_cc:
        assert r["host"]["bit_exact"] and r["host"]["stream_decisions"] > r["n_windows"]
    else:
        assert "no C compiler" in r["host"]["reason"]
    if toolchain.find_tools().missing_arm():
        assert "apt-get install" in r["arm"]["reason"] and not r["qemu"]["checked"]
    else:
        assert r["arm"]["text"] > 0 and r["arm"]["bss"] >= r["library"]["arena_bytes"]
        assert r["qemu"]["bit_exact"] and r["qemu"]["instructions_network"] > r["macs"] / 4
    header = (out / "edgekd.h").read_text()
    assert "#define EDGEKD_HOP 10" in header and "#define EDGEKD_SAMPLE_BITS 24" in header
    saved = json.loads((tmp_path / "export_report.json").read_text())["lib"]
    assert saved["agreement_with_onnx_int8"] == r["agreement_with_onnx_int8"]


def test_cli_exports_float_filters_and_reports(runs, tmp_path):
    out = tmp_path / "lib"
    result = subprocess.run(
        [sys.executable, "-m", "edgekd", "export", str(runs["micro_tcn_tiny"]), "--format", "c",
         "--out", str(out), "--sample-scale", "0.01", "--sample-bits", "24", "--float-filters",
         "--min-agreement", "0.8"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "top-1 agreement (INT8 ONNX)" in result.stdout and str(out) in result.stdout
    assert "#define EDGEKD_FLOAT_FILTERS 1" in (out / "edgekd.h").read_text()
    listed = subprocess.run([sys.executable, "-m", "edgekd", "export", "--list"],
                            capture_output=True, text=True).stdout
    assert "C99 library" in listed


def test_c_options_are_refused_before_work(runs, tmp_path):
    run = runs["micro_tcn_tiny"]
    with pytest.raises(ConfigError, match="does not take --sample-bits"):
        export_run(ExportRequest(run, "onnx", out=tmp_path / "m.onnx", sample_bits=16))
    with pytest.raises(ConfigError, match="does not take --precision"):
        export_run(ExportRequest(run, "c", out=tmp_path / "lib", precision="fp16"))
    with pytest.raises(ConfigError, match="--sample-bits 40"):
        export_run(ExportRequest(run, "c", out=tmp_path / "lib", sample_bits=40))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not an edgekd C library folder"):
        export_run(ExportRequest(run, "c", out=tmp_path / "mine"))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert not (tmp_path / "lib").exists()


def test_samples_beyond_the_declared_bits_are_refused(runs, tmp_path):
    with pytest.raises(ConfigError, match="beyond --sample-bits 8"):
        export_run(ExportRequest(runs["micro_tcn_tiny"], "c", out=tmp_path / "lib",
                                 sample_scale=0.01, sample_bits=8))


def test_recurrent_student_is_refused_naming_its_layer(runs, tmp_path):
    with pytest.raises(EdgekdError, match="GRU layer 'rnn' has no C implementation"):
        export_run(ExportRequest(runs["gru_tiny"], "c", out=tmp_path / "lib"))
    assert not (tmp_path / "lib").exists()


def test_parity_failure_writes_no_library_unless_forced(runs, tmp_path):
    out = tmp_path / "lib"
    with pytest.raises(EdgekdError, match="parity check failed"):
        export_run(ExportRequest(runs["micro_tcn_tiny"], "c", out=out, min_agreement=1.01,
                                 **SAMPLES))
    assert not out.exists()
    report = json.loads((tmp_path / "export_report.json").read_text())["lib"]
    assert report["passed"] is False and report["written"] is False


def test_bench_refuses_the_c_format_up_front(tmp_path):
    from edgekd.bench.run import BenchOptions, bench
    with pytest.raises(ConfigError, match="--formats c"):
        bench(BenchOptions([str(tmp_path)], ("torch", "c")))


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_recordings_one_person(myo_root, tmp_path):
    """A micro_cnn trained briefly on one real person: the C library streams that person's
    raw int8-range recordings (counts, scale 1) and agrees with the INT8 ONNX artifact."""
    cfg = resolve(overrides={"data.path": str(myo_root), "data.people": ["Female3"],
                             "model": "micro_cnn", "split.test": [3], "optim.epochs": 3,
                             "device": "cpu"})
    train_run(cfg, tmp_path / "run")
    r = export_run(ExportRequest(tmp_path / "run", "c", out=tmp_path / "lib", force=True))
    assert r["notes"] == []                        # the Myo's samples are whole counts
    assert r["agreement_with_onnx_int8"] >= 0.99 and r["network_logits_identical"] >= 0.99
    assert r["host"].get("bit_exact", not toolchain.find_tools().host_cc)
