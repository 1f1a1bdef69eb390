"""Generate the parameter table of docs/ODD.md from the schema (``python -m sim.docs``).

The table sits between two marker lines in ODD.md; a test checks that it is up to date, so the
document cannot drift from the code's defaults, ranges and sources.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from sim.params import iter_parameters
from sim.scenario import get_path, load_scenario, scenario_to_dict

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
BEGIN, END = "<!-- parameter-table:begin -->", "<!-- parameter-table:end -->"
SKIP_PREFIXES = ("calibration",)  # provenance, not a model parameter (documented in the text)


def _fmt(value: Any) -> str:
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple) and not value:
        return "[]"
    return str(value).replace("|", "/")


def _range(info: Any) -> str:
    lo = hi = None
    for item in info.metadata:
        lo = getattr(item, "ge", lo)
        hi = getattr(item, "le", hi)
    if lo is None and hi is None:
        return ""
    return f"{_fmt(lo) if lo is not None else '-inf'} to {_fmt(hi) if hi is not None else 'inf'}"


def _lookup(doc: dict, path: str) -> Any:
    return get_path(doc, path, default=None)


def parameter_table() -> str:
    historical = scenario_to_dict(load_scenario(ROOT / "scenarios" / "historical_2025.yaml"))
    lines = [
        "| parameter | default | range | historical_2025 | source | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for path, info in iter_parameters():
        if path.startswith(SKIP_PREFIXES):
            continue
        default = info.default
        hist = "" if "[]" in path else _lookup(historical, path)
        shown_hist = "" if hist is None or hist == default or isinstance(hist, list | dict) else _fmt(hist)
        if isinstance(hist, list) and hist:
            shown_hist = f"{len(hist)} entries"
        source = (info.json_schema_extra or {}).get("source", "")
        lines.append(f"| `{path}` | {_fmt(default)} | {_range(info)} | {shown_hist} | {source} | {info.description or ''} |")
    return "\n".join(lines)


def updated_odd(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{parameter_table()}\n{END}{tail}"


def main() -> int:
    text = ODD.read_text()
    if BEGIN not in text or END not in text:
        print(f"{ODD}: markers {BEGIN} / {END} not found", file=sys.stderr)
        return 2
    ODD.write_text(updated_odd(text))
    print(f"updated the parameter table in {ODD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
