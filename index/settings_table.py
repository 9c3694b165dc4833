"""The README's configuration table, generated from the settings' descriptions.

    python -m index.settings_table            # print it
    python -m index.settings_table --readme   # rewrite it in README.md
"""
from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from .settings import PROJECT_ROOT, Settings


def configuration_table() -> str:
    """The README's configuration table, one row per setting, from the fields' descriptions."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if field.default_factory is not None or name == "embedding_model":
            shown = "the packaged MiniLM"
        elif isinstance(default, SecretStr):
            shown = "unset" if not default.get_secret_value() else "(set)"
        elif isinstance(default, Path):
            shown = f"`{default.relative_to(PROJECT_ROOT)}/`" if default.is_relative_to(PROJECT_ROOT) else f"`{default}`"
        elif default in (None, ""):
            shown = "unset"
        else:
            shown = f"`{default}`"
        rows.append(f"| `POLICY_ASSISTANT_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)


README_START, README_END = "<!-- settings table: python -m index.settings_table --readme -->", "<!-- end of settings table -->"


def readme_with_table(readme: str) -> str:
    start, end = readme.index(README_START) + len(README_START), readme.index(README_END)
    return readme[:start] + "\n" + configuration_table() + "\n" + readme[end:]


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--readme"]:
        readme = PROJECT_ROOT / "README.md"
        readme.write_text(readme_with_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(configuration_table())

