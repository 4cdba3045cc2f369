"""The model table of ``edgekd models``, cached for the default input so listing is instant.

Building all 34 registered models (an 85 M-parameter GPT-2 among them) to count parameters and
MACs takes seconds plus the torch import; the list is the same every time for the default input
(8 ch x 52 samples @ 200 Hz, 7 classes). So the counts are computed once, by
``python -m edgekd.model_catalog --write``, into ``model_catalog.json`` beside this file, with a
digest of the sources they depend on (``edgekd/models/*.py``, ``edgekd/profiling.py``). A catalog
whose digest differs from the sources is stale: :func:`load` refuses it (the CLI then counts
afresh and says so) and a test fails until it is regenerated, so it never silently goes stale.

This module imports no torch; only :func:`build` does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
CATALOG = HERE / "model_catalog.json"
DEFAULT_INPUT = {"chans": 8, "times": 52, "fs": 200.0, "classes": 7}
REGENERATE = "python -m edgekd.model_catalog --write"


def source_digest() -> str:
    """sha256 over the sources the counts depend on (file names and bytes, in name order)."""
    h = hashlib.sha256()
    for path in sorted([*(HERE / "models").glob("*.py"), HERE / "profiling.py"]):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def load(input_shape: dict) -> tuple[dict | None, str]:
    """The cached catalog for ``input_shape`` (keys as :data:`DEFAULT_INPUT`), or None and why
    not. Keys: ``models`` (rows of name, role, parameters, macs, description) and
    ``mac_convention``."""
    if input_shape != DEFAULT_INPUT:
        return None, "the catalog holds the default input only"
    if not CATALOG.is_file():
        return None, f"no {CATALOG.name}"
    cached = json.loads(CATALOG.read_text())
    if cached.get("digest") != source_digest():
        return None, f"{CATALOG.name} is out of date with edgekd/models (run: {REGENERATE})"
    return cached, "cached"


def build(input_shape: dict, names: list[str] | None = None, on_model=None) -> list[dict]:
    """Build the registered models (all, or ``names``) for ``input_shape`` and count them
    (imports torch). ``on_model()`` is called after each."""
    from edgekd.models import create_model, list_models
    from edgekd.profiling import count_macs, count_parameters

    rows = []
    for entry in list_models():
        if names is not None and entry.name not in names:
            continue
        model = create_model(entry.name, n_chans=input_shape["chans"],
                             n_times=input_shape["times"], n_outputs=input_shape["classes"],
                             sfreq=input_shape["fs"])
        rows.append({"name": entry.name, "role": entry.role,
                     "parameters": count_parameters(model),
                     "macs": count_macs(model, (input_shape["chans"], input_shape["times"])),
                     "description": entry.description})
        if on_model:
            on_model()
    return rows


def write() -> Path:
    """Recount every model for the default input and write the catalog (atomically)."""
    from edgekd.atomic import write_json_atomic
    from edgekd.profiling import MAC_CONVENTION

    write_json_atomic(CATALOG, {"input": DEFAULT_INPUT, "digest": source_digest(),
                                "mac_convention": MAC_CONVENTION,
                                "models": build(DEFAULT_INPUT)})
    return CATALOG


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="regenerate the catalog")
    if parser.parse_args().write:
        print(f"wrote {write()}")
    else:
        print(load(DEFAULT_INPUT)[1])
