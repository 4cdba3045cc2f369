import json

import pytest
import torch

from edgekd.errors import ConfigError
from edgekd.models import MODELS, create_model, list_models, model_from_config

SHAPE = dict(n_chans=8, n_times=52, n_outputs=7, sfreq=200.0)
# Every registered (non-tiny) model must be listed here with its role: registering a model
# without adding it makes test_registry_is_complete fail.
KNOWN = {"cnn": "student", "lstm": "student", "gru": "student", "cnn_lstm": "student",
         "tcn": "student", "micro_cnn": "student", "micro_tcn": "student", "resnet1d": "teacher", "inceptiontime": "teacher",
         "xceptiontime": "teacher", "mkcnn": "teacher", "multistream": "teacher",
         "eunet": "teacher", "densenet1d": "teacher", "transformer": "teacher",
         "usleep": "teacher", "gpt2": "teacher"}
TINY = [n for n in MODELS.names() if n.endswith("_tiny")]


def test_registry_is_complete():
    base = {n for n in MODELS.names() if not n.endswith("_tiny")}
    assert base == set(KNOWN), f"untested or missing models: {base ^ set(KNOWN)}"
    for name, role in KNOWN.items():
        assert MODELS.get(name).role == role
        assert f"{name}_tiny" in MODELS


@pytest.mark.parametrize("name", TINY)
def test_contract_forward_backward_and_config_round_trip(name):
    torch.manual_seed(0)
    model = create_model(name, **SHAPE)
    x = torch.randn(3, 8, 52)
    out = model(x)
    assert out.shape == (3, 7) and torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if n.startswith("head."))
    config = json.loads(json.dumps(model.get_config()))
    clone = model_from_config(config)
    clone.load_state_dict(model.state_dict())
    model.eval(), clone.eval()
    torch.testing.assert_close(model(x), clone(x))


@pytest.mark.parametrize("name", TINY)
def test_logits_can_be_negative(name):
    """The research models' ReLU before global pooling forced every logit >= 0."""
    torch.manual_seed(1)
    model = create_model(name, **SHAPE).eval()
    with torch.no_grad():
        assert (model(torch.randn(16, 8, 52) * 3) < 0).any()


@pytest.mark.parametrize("name", ["micro_cnn", "micro_tcn"])
def test_mcu_class_students_fit_a_microcontroller(name):
    """The MCU class (issue 15/16): <= 5k parameters and <= 50k MACs per 8 ch x 52 window."""
    from edgekd.profiling import count_macs, count_parameters
    model = create_model(name, **SHAPE)
    assert count_parameters(model) <= 5_000
    assert count_macs(model, (8, 52)) <= 50_000


@pytest.mark.parametrize("name", ["cnn_tiny", "tcn_tiny", "transformer_tiny", "usleep_tiny",
                                  "micro_cnn_tiny", "micro_tcn_tiny"])
def test_other_shapes(name):
    model = create_model(name, n_chans=16, n_times=200, n_outputs=4, sfreq=1000.0)
    assert model(torch.randn(2, 16, 200)).shape == (2, 4)


def test_tiny_variants_are_smaller():
    for name in KNOWN:
        if name == "gpt2":
            continue
        big = sum(p.numel() for p in create_model(name, **SHAPE).parameters())
        tiny = sum(p.numel() for p in create_model(f"{name}_tiny", **SHAPE).parameters())
        assert tiny < big, name


def test_unknown_hparam_and_model_refused():
    with pytest.raises(ConfigError, match=r"no hyper-parameter\(s\) \['widht'\]"):
        create_model("cnn", widht=3, **SHAPE)
    with pytest.raises(ConfigError, match="did you mean 'lstm'"):
        create_model("lsmt", **SHAPE)
    assert {e.role for e in list_models("student")} == {"student"}


def test_gpt2_loads_local_hf_weights(tmp_path):
    src = create_model("gpt2", n_embd=16, n_layer=2, n_head=2, n_positions=64, **SHAPE)
    hf = {f"transformer.{k}": v for k, v in src.state_dict().items()
          if k.startswith(("h.", "ln_f.", "wpe."))}
    hf["transformer.wte.weight"] = torch.zeros(50, 16)  # token embeddings exist but are unused
    torch.save(hf, tmp_path / "pytorch_model.bin")
    (tmp_path / "config.json").write_text(json.dumps({"n_embd": 16, "n_layer": 2, "n_head": 2,
                                                     "n_positions": 64}))
    model = create_model("gpt2", pretrained=str(tmp_path), **SHAPE)
    for k, v in model.state_dict().items():
        if k.startswith("h."):
            torch.testing.assert_close(v, src.state_dict()[k])
    torch.testing.assert_close(model.wpe.weight, src.wpe.weight)
    config = model.get_config()
    (tmp_path / "config.json").unlink()  # a checkpoint holds the weights: no folder needed
    rebuilt = model_from_config(config)
    rebuilt.load_state_dict(model.state_dict())
    assert rebuilt.wpe.weight.shape == (64, 16) and len(rebuilt.h) == 2


def test_gpt2_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="has no config.json"):
        create_model("gpt2_tiny", pretrained=str(tmp_path / "nope"), **SHAPE)
    (tmp_path / "config.json").write_text('{"n_embd": 16, "n_layer": 1, "n_head": 2}')
    with pytest.raises(ConfigError, match="no model.safetensors or pytorch_model.bin"):
        create_model("gpt2_tiny", pretrained=str(tmp_path), **SHAPE)
