import pytest

from edgekd.errors import ConfigError
from edgekd.train.config import dump_yaml, load_yaml, resolve


def test_precedence_defaults_yaml_flags(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: lstm\noptim:\n  lr: 0.01\n  epochs: 7\nsplit:\n  scheme: session\n")
    cfg = resolve(path, {"optim.lr": 0.5, "optim.batch_size": None})
    assert cfg.model == "lstm"                 # yaml over default
    assert cfg.optim.epochs == 7               # yaml
    assert cfg.optim.lr == 0.5                 # flag over yaml
    assert cfg.optim.batch_size == 128         # None = flag not given: default stays
    assert cfg.split.scheme == "session"


def test_round_trip_through_saved_yaml(tmp_path):
    cfg = resolve(overrides={"model": "tcn", "data.channels": [0, 2], "augment.noise": 0.1})
    (tmp_path / "saved.yaml").write_text(dump_yaml(cfg))
    assert resolve(base=load_yaml(tmp_path / "saved.yaml")) == cfg


@pytest.mark.parametrize("text,match", [
    ("optim:\n  lr: 1\n  lerning_rate: 2\n", r"config.optim: unknown key\(s\) \['lerning_rate'\]"),
    ("optim: [1, 2\n", r"c\.yaml:line \d+: invalid YAML"),
    ("!!python/object/apply:os.system ['echo hi']\n", "invalid YAML"),
    ("- just\n- a list\n", "expected a mapping"),
])
def test_bad_config_files(tmp_path, text, match):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        resolve(path)


def test_invalid_values_refused():
    with pytest.raises(ConfigError, match="optimizer='rmsprop'"):
        resolve(overrides={"optim.optimizer": "rmsprop"})
    with pytest.raises(ConfigError, match="--freeze-trunk needs --init-from"):
        resolve(overrides={"freeze_trunk": True})


def test_unknown_names_refused_before_any_run_directory_is_written(tmp_path):
    from edgekd.train.run import train_run
    with pytest.raises(ConfigError, match="did you mean 'cnn'"):
        train_run(resolve(overrides={"model": "cnnn", "data.path": str(tmp_path)}),
                  tmp_path / "run")
    assert not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match="unknown KD loss 'hintn'"):
        resolve(overrides={"kd.loss": "hintn"})
    with pytest.raises(ConfigError, match=r"no hyper-parameter\(s\) \['widht'\]"):
        resolve(overrides={"model_args": {"widht": 3}})
