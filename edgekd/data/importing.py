"""``edgekd data import``: read any layout, write the native format, and keep a record of
everything that was skipped (bad rows with file:line, files that are notes, warnings) in the
new dataset's manifest."""

from __future__ import annotations

from pathlib import Path

from edgekd.data import native
from edgekd.data.readers import ReaderOptions, read_dataset
from edgekd.data.recording import Dataset, Problem


def import_report(dataset: Dataset, source: str | Path, options: ReaderOptions) -> dict:
    """What the import kept and dropped, as JSON: ``skipped_rows`` (each malformed row dropped
    under ``--on-bad-row skip``), ``split_at`` (where a session was split into recordings
    because rows were dropped there), ``skipped_files`` (notes such as README.txt) and
    ``warnings``."""
    kind = lambda sev: [p.to_dict() for p in dataset.problems if p.severity == sev]  # noqa: E731
    split_at = [{"person": r.person, "session": r.session, "segment": r.meta["segment"],
                 "after": f"{r.meta['after_skipped_file']}:line {r.meta['after_skipped_line']}"}
                for r in dataset.recordings if r.meta.get("segment", 0) > 0]
    return {"source": str(source), "format": dataset.format, "on_bad_row": options.on_bad_row,
            "recordings": len(dataset.recordings), "skipped_rows": kind("error"),
            "split_at": split_at, "skipped_files": kind("info"), "warnings": kind("warning")}


def import_dataset(path: str | Path, out: str | Path, format: str | None = None,
                   options: ReaderOptions | None = None,
                   overwrite: bool = False) -> tuple[Dataset, Path, dict]:
    """Read ``path`` strictly (the first problem raises, except a bad row under
    ``on_bad_row="skip"``) and write it to ``out``; returns (dataset, manifest, report)."""
    options = options or ReaderOptions()
    dataset = read_dataset(path, format, options, strict=True)
    report = import_report(dataset, path, options)
    manifest = native.write_dataset(dataset, out, overwrite=overwrite, imported=report)
    return dataset, manifest, report


def problem_line(p: Problem | dict) -> str:
    """``path:line 12: detail`` for a Problem or its dict form."""
    d = p.to_dict() if isinstance(p, Problem) else p
    return str(Problem(d["path"], d["detail"], d["line"], d["offset"], d["severity"]))
