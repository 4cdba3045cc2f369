"""Every export writes a model card beside the artifact, and the run and the artifact carry
their provenance (versions, commit, machine, data hash)."""

import json

from edgekd.data import native
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.provenance import dataset_hash
from edgekd.train.config import resolve
from edgekd.train.run import train_run
from export.pipeline import ExportRequest, export_run
from export.runtime import load


def test_export_writes_a_model_card_and_provenance(tmp_path):
    ds = synthesize(SynthConfig(people=2, sessions=1, repetitions=3, gestures=3, hold_s=2.0,
                                seed=5))
    native.write_dataset(ds, tmp_path / "data")
    metrics = train_run(resolve(overrides={"data.path": str(tmp_path / "data"),
                                           "model": "cnn_tiny", "data.hop": 10,
                                           "optim.epochs": 2, "device": "cpu"}),
                        tmp_path / "run")
    prov = metrics["provenance"]
    assert prov["data"] == dataset_hash(native.read_dataset(tmp_path / "data"))
    assert prov["packages"]["torch"] and prov["machine"]["cpu"]
    out = tmp_path / "P01.onnx"
    report = export_run(ExportRequest(tmp_path / "run", "onnx", out=out, split="P01",
                                      force=True))
    card_path = tmp_path / "P01.onnx.md"
    assert report["model_card"] == str(card_path)
    card = card_path.read_text()
    for needle in ("# Model card: P01.onnx", "## Data", prov["data"]["sha256"],
                   "people (2): P00, P01", "## Accuracy per person", "| P01 (this model) | P01 |",
                   f"{metrics['splits']['P00']['accuracy']:.4f}", "## Intended use",
                   "## Limits", "Not a medical device", "## Provenance", "20.0",
                   ", ".join(ds.label_names)):
        assert needle in card, needle
    # per-person rows are the run's own numbers, this model's row marked
    p01 = metrics["splits"]["P01"]
    assert f"| P01 (this model) | P01 | {p01['accuracy']:.4f} |" in card
    assert "sessions (2): P00/S0, P01/S0" in card
    # parity line is the export's measured parity, not a placeholder
    assert 0.0 <= report["top1_agreement"] <= 1.0
    assert (f"top-1 agreement {report['top1_agreement']:.4f}, accuracy "
            f"{report['accuracy_artifact']:.4f} (checkpoint {report['accuracy_torch']:.4f})"
            in card)
    assert f"{report['size_bytes']:,} bytes" in card and "nan" not in card.split("## Intended")[0]
    # provenance at training and at export: commit when run from a checkout, versions, machine
    git = prov["git"]
    if git:
        assert f"commit {git['commit'][:12]}" in card
    assert card.count(f"torch {prov['packages']['torch']}") >= 1
    assert "- trained with: " in card and "- exported with: " in card
    assert "not recorded" not in card.split("## Provenance")[1]
    meta = load(out).metadata
    assert meta["provenance"]["packages"]["onnxruntime"]
    assert json.loads((tmp_path / "export_report.json").read_text())
