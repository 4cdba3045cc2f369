from pathlib import Path

import pytest

from edgekd.data.synth import SynthConfig, synthesize

SHARED_MYO = Path(__file__).resolve().parents[1].parent / "shared/data/myo-armband-7g"


@pytest.fixture(scope="session")
def small_synth():
    """3 people, 2 sessions, 4 repetitions, 8 + 16 paired channels at 200 Hz."""
    return synthesize(SynthConfig(people=3, sessions=2, paired_channels=16, seed=1))


@pytest.fixture
def myo_root():
    root = SHARED_MYO / "PreTrainingDataset"
    if not root.is_dir():
        pytest.skip(f"real Myo recordings not present at {root} (../shared is optional)")
    return root
