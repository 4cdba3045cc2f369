from dataclasses import replace

import numpy as np

from edgekd.data.identity import dataset_blocks, paired_groups, recording_blocks
from edgekd.data.windowing import dataset_windows
from edgekd.signal import FilterSpec, PreprocessSpec, WindowSpec


def test_every_window_lies_inside_one_block(small_synth):
    spec = PreprocessSpec(small_synth.fs, 8, WindowSpec(52, 7), FilterSpec())
    ws = dataset_windows(small_synth, spec)
    blocks = dataset_blocks(small_synth)
    b = blocks.of_windows(ws)
    assert (blocks.rec[b] == ws.recording).all()
    assert (blocks.start[b] <= ws.end - 51).all() and (ws.end < blocks.stop[b]).all()
    assert (blocks.rep[b] == ws.repetition).all()   # a block is one repetition (+ rest before)


def test_block_hashes_follow_content_not_names(small_synth):
    rec = small_synth.recordings[0]
    starts, reps, hashes = recording_blocks(rec)
    assert list(reps) == [0, 1, 2, 3] and len(set(hashes)) == 4
    renamed = replace(rec, person="someone", session="else", source="elsewhere.csv")
    assert recording_blocks(renamed)[2] == hashes
    signals = rec.signals.copy()
    signals[starts[2] + 5, 3] += 1e-3
    changed = recording_blocks(replace(rec, signals=signals))[2]
    assert [a == b for a, b in zip(changed, hashes)] == [True, True, False, True]


def test_simultaneous_blocks_of_other_modalities_are_paired(small_synth):
    blocks = dataset_blocks(small_synth)
    groups = paired_groups(small_synth, blocks)
    for b, group in enumerate(groups):
        mods = {small_synth.recordings[blocks.rec[g]].modality for g in group}
        assert mods == {"emg", "hd-emg"} and b in group
        assert len({(blocks.start[g], blocks.stop[g]) for g in group}) == 1
    assert np.unique(blocks.hashes).size == len(blocks.hashes)
