"""Which pip extra brings a module that is missing, so a command can say so in one line.

The base install is the edge install (no torch); the full toolkit is the ``train`` extra. A
command run without the extra it needs fails on an import deep in library code; the CLI turns
that ``ModuleNotFoundError`` into one line naming the extra (tests/unit/test_extras.py checks this
table against pyproject.toml, so a dependency moved between extras cannot leave it stale).
"""

from __future__ import annotations

# top-level import name -> (distribution on the package index, extra that brings it)
EXTRA_OF_MODULE: dict[str, tuple[str, str]] = {
    "torch": ("torch", "train"),
    "onnx": ("onnx", "train"),
    "onnxscript": ("onnxscript", "train"),
    "yaml": ("pyyaml", "train"),
    "matplotlib": ("matplotlib", "train"),
    "pyedflib": ("pyEDFlib", "train"),
    "tensorrt": ("tensorrt", "tensorrt"),
    "cuda": ("cuda-python", "tensorrt"),
    "pylsl": ("pylsl", "lsl"),
    "brainflow": ("brainflow", "brainflow"),
    "pyxdf": ("pyxdf", "xdf"),
}


def missing_extra_message(module: str | None, command: str) -> str | None:
    """One line for ``command`` failing on the missing ``module``, or None when the module is
    not one an extra brings (then it is a bug, and the traceback is the right report)."""
    top = (module or "").split(".")[0]
    if top not in EXTRA_OF_MODULE:
        return None
    dist, extra = EXTRA_OF_MODULE[top]
    return (f"{command} needs {dist}, which is not installed: pip install 'edgekd[{extra}]' "
            f"(from a clone: pip install -e '.[{extra}]')")


def install_hint(modules: list[str]) -> str:
    """``pip install 'edgekd[train,tensorrt]'`` for the extras that bring ``modules``; modules
    of the base install (reinstall it) are named as they are."""
    extras = sorted({EXTRA_OF_MODULE[m][1] for m in modules if m in EXTRA_OF_MODULE})
    others = [m for m in modules if m not in EXTRA_OF_MODULE]
    parts = ([f"pip install 'edgekd[{','.join(extras)}]'"] if extras else []) + (
        [f"pip install {' '.join(others)}"] if others else [])
    return " and ".join(parts)
