"""The CLI reference in the README, generated from the Typer app (a test keeps them in sync).

    python -m edgekd.cli.reference          # prints the markdown
    python -m edgekd.cli.reference --write  # rewrites the README section in place
"""

from __future__ import annotations

import sys
from pathlib import Path

BEGIN, END = "<!-- cli-reference:begin -->", "<!-- cli-reference:end -->"


def _commands(group, prefix: str = "edgekd"):
    for name in sorted(group.commands):
        cmd = group.commands[name]
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", cmd


def render() -> str:
    import typer

    from edgekd.cli import app
    root = typer.main.get_command(app)
    lines = []
    for path, cmd in _commands(root):
        args = " ".join(p.name.upper() + ("..." if getattr(p, "nargs", 1) == -1 else "")
                        for p in cmd.params if p.param_type_name == "argument")
        lines += [f"### `{path}{' ' + args if args else ''}`", "",
                  (cmd.help or "").strip().split("\n\n")[0].replace("\n", " "), ""]
        opts = [p for p in cmd.params if p.param_type_name == "option" and p.name != "help"]
        if opts:
            lines += ["| option | default | meaning |", "|---|---|---|"]
            for p in opts:
                flags = " / ".join(f"`{o}`" for o in (*p.opts, *p.secondary_opts))
                default = "" if p.default in (None, False, ()) or p.required else f"`{p.default}`"
                lines.append(f"| {flags} | {'required' if p.required else default} | "
                             f"{(p.help or '').replace('|', '/')} |")
            lines.append("")
    return "\n".join(lines).strip() + "\n"


def replace_section(text: str, begin: str, end: str, body: str) -> str:
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    return f"{head}{begin}\n{body}{end}{tail}"


def main() -> None:
    if "--write" in sys.argv:
        readme = Path(__file__).resolve().parents[2] / "README.md"
        readme.write_text(replace_section(readme.read_text(), BEGIN, END, render()))
    else:
        print(render())


if __name__ == "__main__":
    main()
