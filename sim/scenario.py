"""Load scenario YAML files: safe parsing, ``extends:`` inheritance and strict validation.

Every problem becomes a `ScenarioError` whose message is one line naming the file, the key path and what
is allowed, e.g. ``scenarios/x.yaml: platform.translation.quality: must be <= 1 (got 1.5)``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import reprlib
import stat
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.params import Scenario

MAX_FILE_BYTES = 1_000_000
"""Largest scenario file read (the shipped ones are under 10 kB)."""
MAX_NODES = 100_000
"""Largest document, counting every value after YAML aliases are expanded ("billion laughs" guard)."""
MAX_MESSAGE = 400


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with control characters escaped (so a message stays one line) and at most ``limit`` characters."""
    out = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


class ScenarioError(ValueError):
    """A scenario that cannot be used. ``str(error)`` is a one-line message for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where PyYAML has it: 6x faster
    """Safe loader that leaves timestamps as text (the schema parses dates and reports bad ones by key),
    rejects duplicate keys and documents that aliases expand beyond `MAX_NODES` values."""

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {_short(key_node.value)}", key_node.start_mark
                        )
                    seen[key] = 1
        return super().construct_mapping(node, deep=deep)

    def get_single_data(self):  # type: ignore[override]
        node = self.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_NODES:
            raise yaml.YAMLError(f"the document expands to more than {MAX_NODES:,} values (aliases)")
        return self.construct_document(node)


def _expanded_size(root: yaml.Node) -> int:
    """Values in the document with every alias expanded, counted without expanding (memoised per node)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        if children_done:
            sizes[id(node)] = min(1 + sum(sizes.get(id(c), 1) for c in children), MAX_NODES + 1)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
# YAML 1.1 (PyYAML) reads 3.4e6 and 1e6 as text; accept them as numbers, as YAML 1.2 does.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, merge (``extends:``) and validate a scenario file.

    ``overrides`` are top-level keys set after merging (the command line's ``--seed``, ``--agents``);
    ``days`` in overrides sets ``end_date`` from ``start_date``.
    """
    path = Path(path)
    raw = _load_with_parents(path, chain=())
    overrides = dict(overrides or {})
    days = overrides.pop("days", None)
    raw.update({k: v for k, v in overrides.items() if v is not None})
    if days is not None:
        start = raw.get("start_date", Scenario.model_fields["start_date"].default)
        try:
            raw["end_date"] = _as_date(start) + dt.timedelta(days=int(days) - 1)
        except (TypeError, ValueError, OverflowError):
            raise ScenarioError(
                f"{path}: start_date: must be a calendar date like 2025-01-01 that --days {days} can extend (got {_short(start)})"
            ) from None
    return validate(raw, source=str(path))


def validate(raw: Any, source: str = "<scenario>") -> Scenario:
    """Validate an already-merged mapping; raises `ScenarioError` with the first problem."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: the document must be a mapping of keys to values (got {type(raw).__name__})")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise ScenarioError(f"{source}: {_describe(errors[0])}{more}") from None


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Plain YAML-ready dict of every parameter (dates as ISO strings)."""
    return scenario.model_dump(mode="json")


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise TypeError(value)


SHIPPED_SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
"""Where a relative ``extends:`` is looked up when it is not found next to the file (a copied scenario)."""


def _load_with_parents(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    try:
        resolved = path.resolve()
    except (OSError, ValueError, RuntimeError) as exc:
        raise _Unreadable(path, f"cannot read the file ({exc})") from None
    if resolved in chain:
        cycle = " -> ".join(str(p.name) for p in (*chain, resolved))
        raise ScenarioError(f"{path}: extends: circular inheritance ({cycle})")
    raw = _read_yaml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str) or not parent.strip() or "\0" in parent:
        raise ScenarioError(f"{path}: extends: must be the path of another scenario file (got {_short(parent)})")
    parent_path = (path.parent / parent) if not Path(parent).is_absolute() else Path(parent)
    if not Path(parent).is_absolute() and not parent_path.exists() and (SHIPPED_SCENARIOS / parent).is_file():
        # a copy of a shipped scenario, moved out of scenarios/: its parent is the shipped one it names
        parent_path = SHIPPED_SCENARIOS / parent
    try:
        base = _load_with_parents(parent_path, (*chain, resolved))
    except _Unreadable as exc:
        if exc.path != parent_path:
            raise
        raise ScenarioError(f"{path}: extends: {exc.reason}: {parent_path}") from None
    base.pop("name", None)
    base.pop("description", None)
    return deep_merge(base, raw)


class _Unreadable(ScenarioError):
    """A scenario path that is missing or not a readable regular file of reasonable size."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _read_text(path: Path) -> str:
    """The file's text: a regular file of at most `MAX_FILE_BYTES` (never blocks on a pipe or device)."""
    too_big = f"larger than the {MAX_FILE_BYTES:,}-byte limit for scenario files"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _Unreadable(path, "file not found") from None
    except (OSError, ValueError) as exc:
        raise _Unreadable(path, f"cannot read the file ({getattr(exc, 'strerror', None) or exc})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a folder, not a scenario file" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, pipe or socket)"
        raise _Unreadable(path, kind)
    with os.fdopen(fd, "rb") as fh:
        if info.st_size > MAX_FILE_BYTES:
            raise _Unreadable(path, too_big)
        try:
            data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise _Unreadable(path, f"cannot read the file ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise _Unreadable(path, too_big)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unreadable(path, "cannot read the file (not UTF-8 text)") from None


def _read_yaml(path: Path) -> dict[str, Any]:
    text = _read_text(path)
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or (str(exc) if type(exc) is yaml.YAMLError else "not valid YAML")
        raise ScenarioError(f"{path}: {where}invalid YAML ({_short_text(problem)})") from None
    except RecursionError:
        raise ScenarioError(f"{path}: invalid YAML (nested too deeply)") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise ScenarioError(f"{path}: invalid YAML value ({_short_text(str(exc))})") from None
    if data is None:
        raise ScenarioError(f"{path}: the file is empty; a scenario needs at least a name")
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: the document must be a mapping of keys to values (got {type(data).__name__})")
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ScenarioError(f"{path}: {_short(bad[0])}: keys must be text")
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base``: mappings merge key by key, anything else (lists too) replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# ----------------------------------------------------------------------------------------------
# Dotted-path edits ("platform.translation.quality"): the one way every tool reads and changes a scenario
# ----------------------------------------------------------------------------------------------
def get_path(node: Any, path: str, default: Any = KeyError) -> Any:
    """The value at a dotted ``path`` of a scenario or of its document (dict); ``default`` if absent
    (raises `KeyError` naming the path when no default is given)."""
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif not isinstance(node, dict) and hasattr(node, part):
            node = getattr(node, part)
        elif default is KeyError:
            raise KeyError(path)
        else:
            return default
    return node


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted ``path`` of a scenario document, creating missing sections."""
    *parents, leaf = path.split(".")
    node = doc
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def with_values(scenario: Scenario, values: dict[str, Any], source: str) -> Scenario:
    """``scenario`` with each dotted path in ``values`` replaced, validated (a bad value is a `ScenarioError`)."""
    doc = scenario_to_dict(scenario)
    for path, value in values.items():
        set_path(doc, path, value)
    return validate(doc, source=source)


# ----------------------------------------------------------------------------------------------
# Turning a pydantic error into one readable line
# ----------------------------------------------------------------------------------------------
def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + _short_text(str(part), 60)
    return out or "(top level)"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The schema section reached by following ``loc`` from the top (None if it is not a section)."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        if typing.get_origin(annotation) is list:
            annotation = typing.get_args(annotation)[0]
        model = annotation
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 2, 3, 3, 3, 3
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 60, 60, 40


def _short(value: Any) -> str:
    """A short repr of ``value``, built without formatting all of it (values may be huge or shared)."""
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _short_text(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    got = f" (got {_short(error.get('input'))})"
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = ", ".join(parent.model_fields) if parent else "see docs/ODD.md"
        return f"{_key_path(loc)}: unknown key; allowed here: {allowed}"
    if kind == "missing":
        return f"{_key_path(loc)}: required key is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        parent = _model_at(loc)
        keys = f" with keys {', '.join(parent.model_fields)}" if parent else ""
        return f"{_key_path(loc)}: must be a mapping{keys}{got}"
    if kind == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        key, sep, rest = message.partition(": ")
        if sep and " " not in key:  # validators name the offending key first
            return f"{_key_path((*loc, key))}: {rest}"
        return f"{_key_path(loc)}: {message}"
    messages = {
        "float_type": "must be a number",
        "int_type": "must be a whole number",
        "bool_type": "must be true or false",
        "string_type": "must be text",
        "date_type": "must be a calendar date like 2025-01-19",
        "date_from_datetime_inexact": "must be a calendar date like 2025-01-19, without a time",
        "list_type": "must be a list",
        "greater_than_equal": f"must be >= {ctx.get('ge')}",
        "less_than_equal": f"must be <= {ctx.get('le')}",
        "literal_error": f"must be one of {ctx.get('expected')}",
        "finite_number": "must be a finite number",
    }
    message = messages.get(kind, str(error.get("msg", "invalid value")).lower())
    if kind in ("float_type", "int_type", "greater_than_equal", "less_than_equal") and len(loc) > 0:
        field_range = _range_of(loc)
        if field_range:
            message += f" ({field_range})"
    return f"{_key_path(loc)}: {message}{got}"


def _range_of(loc: tuple[Any, ...]) -> str:
    parent = _model_at(loc[:-1])
    if parent is None or not isinstance(loc[-1], str) or loc[-1] not in parent.model_fields:
        return ""
    lo = hi = None
    for item in parent.model_fields[loc[-1]].metadata:
        lo = getattr(item, "ge", lo)
        hi = getattr(item, "le", hi)
    if lo is None and hi is None:
        return ""
    return f"allowed: {lo if lo is not None else '-inf'} to {hi if hi is not None else 'inf'}"
