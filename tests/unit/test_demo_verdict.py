"""The demo says in words what its KD-vs-no-KD comparison shows, and never calls noise a
result."""

from edgekd.cli.demo import kd_verdict


def test_an_insignificant_difference_is_called_noise_either_way():
    for diff, word in ((-0.031, "hurt"), (0.02, "helped"), (0.0, "did not change")):
        text = kd_verdict({"mean_diff": diff, "n": 2, "wilcoxon_p": 0.5})
        assert word in text and "not a significant difference" in text
    assert "hurt the student here by 3.1 pp over 2 people" in kd_verdict(
        {"mean_diff": -0.031, "n": 2, "wilcoxon_p": 0.5})


def test_a_significant_gain_is_stated_without_the_caveat():
    text = kd_verdict({"mean_diff": 0.05, "n": 22, "wilcoxon_p": 0.001})
    assert text == "KD helped the student here by 5.0 pp over 22 people (Wilcoxon p = 0.00)"
