"""A shrinkage LDA on Hudgins time-domain features, in numpy: the classic sEMG baseline, used by
tests to judge whether data are learnable. Written here because scikit-learn is not a dependency
and this is 20 lines."""

import numpy as np


def td_features(x: np.ndarray) -> np.ndarray:
    """Hudgins features per channel of windows [n, C, T]: MAV, WL, ZC, SSC, log RMS."""
    d = np.diff(x, axis=2)
    mav = np.abs(x).mean(2)
    wl = np.abs(d).sum(2)
    zc = (x[:, :, 1:] * x[:, :, :-1] < 0).mean(2)
    ssc = (d[:, :, 1:] * d[:, :, :-1] < 0).mean(2)
    rms = np.log(np.sqrt((x ** 2).mean(2)) + 1e-6)
    return np.concatenate([np.log(mav + 1e-6), np.log(wl + 1e-6), zc, ssc, rms], axis=1)


class LDA:
    def fit(self, f: np.ndarray, y: np.ndarray, shrink: float = 0.1) -> "LDA":
        self.mu_f, self.sd_f = f.mean(0), f.std(0) + 1e-9
        f = (f - self.mu_f) / self.sd_f
        self.classes = np.unique(y)
        means = np.stack([f[y == c].mean(0) for c in self.classes])
        centred = f - means[np.searchsorted(self.classes, y)]
        cov = np.cov(centred, rowvar=False)
        cov = (1 - shrink) * cov + shrink * np.eye(len(cov)) * np.trace(cov) / len(cov)
        inv = np.linalg.inv(cov)
        self.w = means @ inv
        self.b = -0.5 * np.einsum("ij,ij->i", means @ inv, means)
        return self

    def predict(self, f: np.ndarray) -> np.ndarray:
        f = (f - self.mu_f) / self.sd_f
        return self.classes[np.argmax(f @ self.w.T + self.b, axis=1)]
