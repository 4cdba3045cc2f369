import pytest

from edgekd.errors import ConfigError
from edgekd.registry import Registry


def test_unknown_name_lists_choices_and_closest_match():
    reg = Registry("model")
    reg.register("cnn_small")(1)
    reg.register("lstm")(2)
    with pytest.raises(ConfigError, match=r"did you mean 'cnn_small'.*valid: cnn_small, lstm"):
        reg.get("cnn_smal")
    assert reg.get("lstm") == 2


def test_double_registration_refused():
    reg = Registry("thing")
    reg.register("a")(1)
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("a")(2)
