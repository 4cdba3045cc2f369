import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from edgekd.data import native
from edgekd.data.prepare import prepare_splits
from edgekd.data.readers import read_dataset
from edgekd.data.synth import SynthConfig, synthesize
from edgekd.distill.compare import compare_runs, to_markdown
from edgekd.distill.teacher_inputs import paired_recording, windows_at
from edgekd.errors import DataFormatError
from edgekd.signal import FilterSpec, Preprocessor, PreprocessSpec, WindowSpec
from edgekd.train.config import resolve
from edgekd.train.run import new_model, train_run
from edgekd.train.runs import load_model, split_models


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    root = tmp_path_factory.mktemp("kd")
    native.write_dataset(synthesize(SynthConfig(people=2, sessions=1, hold_s=2.0,
                                                paired_channels=12, seed=3)), root / "data")
    teacher = resolve(overrides={"data.path": str(root / "data"), "model": "cnn_tiny",
                                 "data.hop": 10, "optim.epochs": 3, "device": "cpu"})
    train_run(teacher, root / "teacher")
    hd = resolve(overrides={"data.path": str(root / "data"), "model": "cnn_tiny",
                            "data.modality": "hd-emg", "data.hop": 10, "optim.epochs": 3,
                            "device": "cpu"})
    train_run(hd, root / "teacher_hd")
    return root


def _student(root, **over):
    base = {"data.path": str(root / "data"), "model": "cnn_tiny", "data.hop": 10,
            "optim.epochs": 3, "device": "cpu", "optim.patience": 0}
    return resolve(overrides={**base, **over})


def test_alpha_zero_is_exactly_plain_training(paired, tmp_path):
    plain = train_run(_student(paired), tmp_path / "plain")
    no_kd = train_run(_student(paired, **{"kd.teachers": [str(paired / "teacher")],
                                          "kd.alpha": 0.0}), tmp_path / "nokd")
    assert no_kd["splits"] == plain["splits"]   # same init, splits, seeds, batches
    assert no_kd["kd"]["teachers"][0]["run"] == str(paired / "teacher")


def test_cli_no_kd_needs_no_teacher(paired, tmp_path):
    """`edgekd distill --no-kd` is the paired baseline: same as plain training, no --teacher."""
    from edgekd.cli import main
    with pytest.raises(SystemExit) as done:
        main(["distill", "--data", str(paired / "data"), "--student", "cnn_tiny", "--no-kd",
              "--hop", "10", "--epochs", "3", "--patience", "0", "--device", "cpu",
              "--out", str(tmp_path / "nokd")])
    assert done.value.code == 0
    plain = train_run(_student(paired), tmp_path / "plain")
    assert json.loads((tmp_path / "nokd/metrics.json").read_text())["splits"] == plain["splits"]


def test_student_initialisation_is_identical_with_and_without_kd(paired):
    cfg = _student(paired)
    kd_cfg = replace(cfg, kd=replace(cfg.kd, teachers=["x"], alpha=0.9))
    dataset = read_dataset(cfg.data.path)
    prepared = prepare_splits(dataset, WindowSpec(52, 10), FilterSpec(), cfg.split)[0]
    a = new_model(cfg, prepared, 7, "cpu").state_dict()
    b = new_model(kd_cfg, prepared, 7, "cpu").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_kd_changes_training_and_teacher_stays_frozen(paired, tmp_path):
    before = {k: v.clone() for k, v in load_model(split_models(paired / "teacher")["P00"])[0]
              .state_dict().items()}
    kd = train_run(_student(paired, **{"kd.teachers": [str(paired / "teacher")],
                                       "kd.alpha": 0.7, "augment.noise": 0.05}),
                   tmp_path / "kd")
    plain = train_run(_student(paired, **{"augment.noise": 0.05}), tmp_path / "plain")
    assert kd["splits"] != plain["splits"]
    after = load_model(split_models(paired / "teacher")["P00"])[0].state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    hist = json.loads((tmp_path / "kd/splits/P00/result.json").read_text())["history"]
    assert all(h["kd_loss"] > 0 for h in hist)


@pytest.mark.parametrize("over", [
    {"kd.teacher_modality": "hd-emg"},                    # teacher on the paired 12-ch ring
    {"data.channels": [0, 2, 4, 6]},                      # teacher 8 ch -> student 4 ch
    {"kd.loss": "dkd"}, {"kd.loss": "lskd"},
    {"kd.feature_student": "features.1", "kd.feature_teacher": "features.1",
     "kd.feature_weight": 0.5},
])
def test_distillation_modes_run(paired, tmp_path, over):
    teacher = paired / ("teacher_hd" if "kd.teacher_modality" in over else "teacher")
    metrics = train_run(_student(paired, **{"kd.teachers": [str(teacher)], "optim.epochs": 2,
                                            **over}), tmp_path / "run")
    assert set(metrics["splits"]) == {"P00", "P01"}
    hist = json.loads((tmp_path / "run/splits/P00/result.json").read_text())["history"]
    assert np.isfinite(hist[-1]["train_loss"]) and hist[-1]["kd_loss"] > 0


def test_multi_teacher_and_online(paired, tmp_path):
    multi = train_run(_student(paired, **{"kd.teachers": [str(paired / "teacher"),
                                                          str(paired / "teacher")],
                                          "optim.epochs": 2}), tmp_path / "multi")
    assert len(multi["kd"]["teachers"]) == 2
    online = train_run(_student(paired, **{"kd.mode": "online", "kd.teacher_model": "cnn_tiny",
                                           "optim.epochs": 2}), tmp_path / "online")
    assert online["kd"]["mode"] == "online"


def test_teacher_windows_equal_streaming_windows(small_synth):
    rec = small_synth.of_modality("hd-emg")[0]
    spec = PreprocessSpec(rec.fs, rec.n_chans, WindowSpec(40, 7), FilterSpec())
    streamed, ends = Preprocessor(spec).push(rec.signals)
    np.testing.assert_array_equal(windows_at(rec.signals, spec, ends), streamed)


def test_pairing_errors_are_clear(small_synth):
    emg = small_synth.of_modality("emg")[0]
    hd = small_synth.of_modality("hd-emg")[0]
    hd_bad = replace(hd, labels=hd.labels.copy())
    hd_bad.labels[500] = 6
    broken = replace(small_synth, recordings=[emg, hd_bad])
    with pytest.raises(DataFormatError, match="disagree on labels from sample 500"):
        paired_recording(broken, emg, "hd-emg")
    short = replace(hd, signals=hd.signals[:-10], labels=hd.labels[:-10],
                    repetition=hd.repetition[:-10])
    with pytest.raises(DataFormatError, match="differ in time base"):
        paired_recording(replace(small_synth, recordings=[emg, short]), emg, "hd-emg")
    with pytest.raises(DataFormatError, match="no 'imu' recording paired"):
        paired_recording(small_synth, emg, "imu")


def _fake_run(path, accs):
    path.mkdir()
    (path / "metrics.json").write_text(json.dumps({"splits": {
        f"p{i}": {"accuracy": a} for i, a in enumerate(accs)}}))
    return path


def test_compare_paired_statistics(tmp_path):
    from scipy.stats import wilcoxon
    base = [0.80, 0.85, 0.90, 0.70, 0.75, 0.95]
    other = [0.82, 0.85, 0.93, 0.74, 0.74, 0.99]
    result = compare_runs([_fake_run(tmp_path / "a", base), _fake_run(tmp_path / "b", other)])
    vs = result["versus_baseline"][0]
    assert (vs["wins"], vs["ties"], vs["losses"], vs["n"]) == (4, 1, 1, 6)
    diffs = np.array(other) - np.array(base)
    assert vs["wilcoxon_p"] == pytest.approx(wilcoxon(diffs[diffs != 0]).pvalue)
    assert vs["mean_diff"] == pytest.approx(diffs.mean())
    assert "n = 6" in to_markdown(result)


@pytest.mark.parametrize("noise,expect_live", [(0.0, False), (0.1, True)])
def test_teacher_logits_cached_unless_augmented(paired, monkeypatch, noise, expect_live):
    """Without augmentation the teacher runs once per training window (the cache); with it,
    the teacher must see every augmented batch."""
    from edgekd.distill import setup
    calls = {"n": 0}
    real = setup.distill_task_factory

    def counting(cfg, dataset):
        make = real(cfg, dataset)

        def factory(student, prepared, device):
            task = make(student, prepared, device)
            task.teachers[0].register_forward_hook(
                lambda *_: calls.__setitem__("n", calls["n"] + 1))
            return task
        return factory

    monkeypatch.setattr(setup, "distill_task_factory", counting)
    cfg = _student(paired, **{"kd.teachers": [str(paired / "teacher")], "optim.epochs": 2,
                              "augment.noise": noise, "data.people": ["P00"],
                              "optim.batch_size": 64})
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        train_run(cfg, tmp + "/run")
    assert (calls["n"] > 0) == expect_live
