import numpy as np
import pytest

from edgekd.train.metrics import classification_metrics, mean_sd


def test_metrics_match_hand_computation():
    # 3 classes; confusion rows = true: [[2,1,0],[0,3,0],[1,0,1]]
    y_true = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 1, 1, 1, 1, 0, 2])
    m = classification_metrics(y_true, y_pred, 3)
    assert m["confusion"] == [[2, 1, 0], [0, 3, 0], [1, 0, 1]]
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)
    f1 = [2 * (2 / 3) * (2 / 3) / (4 / 3), 2 * (3 / 4) * 1 / (7 / 4), 2 * 1 * 0.5 / 1.5]
    assert m["macro_f1"] == pytest.approx(np.mean(f1))
    p_e = (3 * 3 + 3 * 4 + 2 * 1) / 64
    assert m["kappa"] == pytest.approx((6 / 8 - p_e) / (1 - p_e))


def test_absent_class_is_not_averaged_in():
    m = classification_metrics(np.array([0, 0, 1]), np.array([0, 0, 1]), 4)
    assert m["balanced_accuracy"] == 1.0 and m["macro_f1"] == 1.0


def test_mean_sd_over_people():
    s = mean_sd([{"accuracy": 0.9, "balanced_accuracy": 0.9, "macro_f1": 0.9, "kappa": 0.8},
                 {"accuracy": 0.7, "balanced_accuracy": 0.7, "macro_f1": 0.7, "kappa": 0.6}])
    assert s["accuracy"]["mean"] == pytest.approx(0.8)
    assert s["accuracy"]["sd"] == pytest.approx(np.std([0.9, 0.7], ddof=1))
