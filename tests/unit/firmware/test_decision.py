import numpy as np
import pytest

from edgekd.errors import ConfigError
from firmware_bridge.decision import DecisionPolicy


def test_rejection_and_majority_vote():
    policy = DecisionPolicy(threshold=0.6, vote=3)
    p = lambda k, c: np.array([c if i == k else (1 - c) / 2 for i in range(3)])  # noqa: E731
    assert policy.decide(0, p(1, 0.9)).label == 1
    assert policy.decide(1, p(2, 0.5)).label is None       # rejected, not voted
    assert policy.decide(2, p(2, 0.8)).label == 2          # tie 1-1: most recent wins
    assert policy.decide(3, p(2, 0.7)).label == 2
    d = policy.decide(4, p(1, 0.95))
    assert d.label == 2 and d.raw == 1                     # outvoted by the last three


def test_invalid_policy():
    with pytest.raises(ConfigError):
        DecisionPolicy(threshold=1.0)
