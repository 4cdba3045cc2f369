"""The CLI's shared option vocabulary, and the old names kept as hidden aliases for a release.

One meaning per name, in every command (tests/unit/test_cli_vocabulary.py walks every --help):
- ``--reader``: which reader parses the recordings (npz, myo-dat, csv, ninapro, edf);
  ``--format`` / ``--formats``: the artifact format(s) of export / bench, nothing else.
- ``--scheme``: how a run splits its data (repetition | session | person | kfold);
  ``--split``: one split of a trained run, by name (e.g. a person: P00); ``--windows``: which
  windows evaluate scores (test | all).
- ``--json``: a flag, print JSON on stdout instead of tables; a JSON file to write is
  ``--<what>-json PATH``.
- ``--channels``: channel indices to keep (0,2,4,6); a count of channels is ``--n-channels``.
- ``--people``: several people (comma-separated); ``--person``: one; a count is ``--n-people``.
- ``--window``: window length in samples.

The old names are rewritten here, before Typer parses, so they work but no --help shows them;
each use prints one warning naming the new option.
"""

from __future__ import annotations

# command -> {old option: new option}
ALIASES: dict[str, dict[str, str]] = {
    "train": {"--split": "--scheme", "--format": "--reader", "-f": "--reader"},
    "distill": {"--split": "--scheme", "--format": "--reader", "-f": "--reader"},
    "evaluate": {"--split": "--windows", "--format": "--reader"},
    "models": {"--chans": "--n-channels", "--times": "--window"},
    "export": {"-f": "--format"},
    "bench": {"--json": "--results-json"},
    "stream": {"--json": "--decisions-json"},
    "data summary": {"--format": "--reader", "-f": "--reader"},
    "data import": {"--format": "--reader", "-f": "--reader"},
    "data synth": {"--channels": "--n-channels", "--people": "--n-people"},
}
GROUPS = {"data"}


def command_of(argv: list[str]) -> str:
    """``train`` / ``data summary``: the command's words, options left out."""
    words = [a for a in argv if not a.startswith("-")]
    return " ".join(words[:2 if words and words[0] in GROUPS else 1])


def rewrite(argv: list[str]) -> tuple[list[str], list[str]]:
    """``argv`` with the old option names of its command replaced, and one warning per name
    replaced. ``--old=value`` is rewritten too; anything after ``--`` is left alone."""
    table = ALIASES.get(command_of(argv), {})
    out, warnings = [], []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + argv[i:], warnings
        name, eq, value = arg.partition("=")
        if name in table:
            arg = table[name] + eq + value
            warnings.append(f"{name} is now {table[name]} (the old name goes in a later release)")
        out.append(arg)
    return out, warnings
