"""Figure content a reader relies on (issue 20): run titles, whole-number epochs, which p-value
belongs to which pair, and no legend entry for something not drawn."""

import pytest

import edgekd.plots as plots


@pytest.fixture
def captured(monkeypatch):
    figs = []

    def keep(fig, path):
        figs.append(fig)
        return path
    monkeypatch.setattr(plots, "save_figure", keep)
    return figs


def test_curves_name_the_run_and_count_whole_epochs(captured, tmp_path):
    hist = [{"epoch": e, "train_loss": 1.0 / (e + 1), "val_acc": 0.5 + 0.1 * e} for e in range(3)]
    plots.curves_png({"P00": hist}, tmp_path / "c.png", title="student-kd (cnn, KD alpha 0.5)")
    fig = captured[0]
    assert fig._suptitle.get_text() == "student-kd (cnn, KD alpha 0.5)"
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)


def test_paired_plot_says_which_p_is_which_pair(captured, tmp_path):
    from edgekd.distill.compare import paired_plot
    result = {"metric": "accuracy", "names": ["nokd", "kd", "teacher"],
              "values": [[0.8, 0.9], [0.82, 0.91], [0.9, 0.95]], "sd": [0.05, 0.05, 0.03],
              "versus_baseline": [{"wilcoxon_p": 0.5, "n": 2}, {"wilcoxon_p": 0.25, "n": 2}]}
    paired_plot(result, tmp_path / "p.png")
    title = captured[0].axes[0].get_title()
    assert "kd vs nokd: Wilcoxon p = 0.5 (n = 2)" in title
    assert "teacher vs nokd: Wilcoxon p = 0.25 (n = 2)" in title


def test_accuracy_vs_macs_legend_lists_only_what_is_drawn(captured, tmp_path):
    from edgekd.bench.report import accuracy_vs_macs_png
    from edgekd.bench.run import OK
    result = {"entries": [{"input": "runs/s", "model": "cnn", "role": "student", "macs": 5e5,
                           "rows": [{"format": "torch", "status": OK, "accuracy": 0.9}]}]}
    accuracy_vs_macs_png(result, tmp_path / "a.png")
    labels = [t.get_text() for t in captured[0].axes[0].get_legend().get_texts()]
    assert labels == ["fp32 (torch)", "student"]
