"""Every output of every command is written here: staged, marked, refused or swapped in recoverably.

Rules (README, "Guarantees"):
  - A result folder is written only where there is nothing (or an empty folder), or an earlier result of
    this tool: a folder holding the marker file `MARKER`. Anything else is refused before any work.
  - Replacing an earlier result made with different options needs ``overwrite=True`` (``--overwrite``).
  - Files are written into a hidden ``.NAME.partial-PID`` folder next to the destination, which is
    swapped in with two renames: the earlier result to ``.NAME.old-PID``, then the new one into place.
    A kill at any point leaves either the earlier or the new result in place; `recover` (run before
    every write to that destination) restores or removes what a killed writer left behind.
  - Single files (checkpoints, a fit file) are written to ``.NAME.partial-PID`` and renamed over the
    destination, so a reader sees the old file or the new one, never a part.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

MARKER = ".rednote-result.json"
"""Marker file inside every result folder: which command wrote it, with which options."""
TOOL = "rednote-migration"

_rename = os.rename  # one name for every rename of the swap, so tests can kill the process at each one


class OutputError(Exception):
    """An output destination that cannot or must not be written (exit status 2, before any work)."""


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(dest: Path) -> list[tuple[str, int, Path]]:
    """(kind, pid, path) of the ``.NAME.partial-PID`` and ``.NAME.old-PID`` entries next to ``dest``."""
    pattern = re.compile(rf"\.{re.escape(dest.name)}\.(partial|old)-(\d+)(?:\..*)?")
    found = []
    with contextlib.suppress(OSError):
        for entry in dest.parent.iterdir():
            m = pattern.fullmatch(entry.name)
            if m:
                found.append((m.group(1), int(m.group(2)), entry))
    return found


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def recover(dest: Path) -> list[str]:
    """Undo or finish what writers killed while writing ``dest`` left behind; returns what was done.

    A ``.old`` folder whose writer is gone is the earlier result: if ``dest`` is missing (killed between
    the two renames) it is put back, otherwise (killed after the swap) it is removed. Partial folders
    and files of writers that are gone are removed. Leftovers of a live process are left alone.
    """
    done = []
    stale = [(kind, pid, path) for kind, pid, path in _leftovers(dest) if pid == os.getpid() or not _pid_alive(pid)]
    olds = sorted((p for kind, _, p in stale if kind == "old"), key=lambda p: p.stat().st_mtime, reverse=True)
    if olds and not os.path.lexists(dest) and read_marker(olds[0]) is not None:
        _rename(olds[0], dest)
        done.append(f"restored the earlier result {dest} from {olds.pop(0).name}")
    for _, _, path in stale:
        if os.path.lexists(path):
            _remove(path)
            done.append(f"removed {path.name}")
    return done


def remove_partials(folder: Path) -> None:
    """Remove the ``.NAME.partial-PID`` files and folders that writers now gone left in ``folder``."""
    pattern = re.compile(r"\..+\.partial-(\d+)(?:\..*)?")
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            m = pattern.fullmatch(entry.name)
            if m and (int(m.group(1)) == os.getpid() or not _pid_alive(int(m.group(1)))):
                _remove(entry)


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of a result folder, or None if ``folder`` is not a result of this tool."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("tool") == TOOL else None


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    keys = sorted((k for k in set(old) | set(new) if old.get(k) != new.get(k)), key=lambda k: (k.startswith("scenario"), k))
    parts = []
    for k in keys[:4]:
        a, b = old.get(k), new.get(k)
        if isinstance(a, (int, float, bool)) and isinstance(b, (int, float, bool)) or a is None or b is None:
            parts.append(f"{k} {a} -> {b}")
        else:
            parts.append(f"{k} changed")
    return ", ".join(parts) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")


def check_destination(dest: Path, *, command: str, options: dict[str, Any], overwrite: bool, flag: str = "--out") -> Path:
    """Refuse (`OutputError`) a destination folder this command must not write; returns it made absolute.

    Allowed: nothing there, an empty folder, or a result of this tool (its marker); a result made with
    other options only with ``overwrite``. Also refused: a file, a symbolic link, the root folder, and a
    place under a file or without write permission. Leftovers of killed writers are recovered first.
    """
    dest = Path(os.path.abspath(dest))
    if dest.parent == dest or not dest.name:
        raise OutputError(f"argument {flag}: {dest} cannot hold results; give a folder below it")
    for parent in dest.parents:  # the nearest existing ancestor must be a writable folder
        if os.path.lexists(parent):
            if not parent.is_dir():
                raise OutputError(f"argument {flag}: cannot create {dest}: {parent} is not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputError(f"argument {flag}: cannot create {dest}: {parent} is not writable")
            break
    if dest.parent.exists():
        recover(dest)
    if dest.is_symlink():
        raise OutputError(f"argument {flag}: {dest} is a symbolic link; give the folder itself")
    if not dest.exists():
        return dest
    if not dest.is_dir():
        raise OutputError(f"argument {flag}: {dest} exists and is not a folder; nothing was changed")
    if not os.access(dest.parent, os.W_OK | os.X_OK):
        raise OutputError(f"argument {flag}: cannot replace {dest}: {dest.parent} is not writable")
    try:
        empty = next(dest.iterdir(), None) is None
    except OSError as exc:
        raise OutputError(f"argument {flag}: cannot read {dest} ({exc.strerror})") from None
    if empty:
        return dest
    marker = read_marker(dest)
    if marker is None:
        raise OutputError(
            f"argument {flag}: {dest} is not empty and is not a result of this tool (no {MARKER}); "
            "give a new or empty folder, nothing was changed"
        )
    if (marker.get("command"), marker.get("options")) != (command, options) and not overwrite:
        what = (
            f"`{marker.get('command')}`"
            if marker.get("command") != command
            else _differences(marker.get("options") or {}, options)
        )
        raise OutputError(
            f"argument {flag}: {dest} holds an earlier result made with other options ({what}); "
            "pass --overwrite to replace it, or give another folder"
        )
    return dest


class Stage:
    """A staging folder for ``dest``: write into `path`, then `commit` swaps it in.

    Created before any work, so a destination that must not or cannot be written is refused first.
    Leaving the ``with`` block without `commit` removes the staging folder.
    """

    def __init__(
        self, dest: Path, *, command: str, options: dict[str, Any], overwrite: bool = False, flag: str = "--out"
    ) -> None:
        self.dest = check_destination(dest, command=command, options=options, overwrite=overwrite, flag=flag)
        self.command, self.options, self.flag = command, options, flag
        self.path = self.dest.parent / f".{self.dest.name}.partial-{os.getpid()}"
        missing = [d for d in (self.dest.parent, *self.dest.parent.parents) if not d.exists()]
        self._made = missing[-1] if missing else None  # the top folder this stage creates (removed if unused)
        try:
            self.dest.parent.mkdir(parents=True, exist_ok=True)
            _remove(self.path)
            self.path.mkdir()
            probe = self.path / ".probe"
            probe.write_bytes(b"x")
            probe.unlink()
        except OSError as exc:
            _remove(self.path)
            raise OutputError(f"argument {flag}: cannot write to {self.dest.parent} ({exc.strerror or exc})") from None
        self.committed = False

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.committed:
            self.discard()

    def discard(self) -> None:
        _remove(self.path)
        if self._made is not None:  # folders created for the result and still empty
            folder = self.dest.parent
            while True:
                try:
                    folder.rmdir()
                except OSError:
                    break
                if folder == self._made:
                    break
                folder = folder.parent

    def commit(self, extra: dict[str, Any] | None = None) -> Path:
        """Write the marker and swap the staged folder into place; returns the destination."""
        marker = {"tool": TOOL, "command": self.command, "options": self.options, **(extra or {})}
        write_file(self.path / MARKER, json.dumps(marker, indent=2, sort_keys=True) + "\n")
        taken = self.dest.is_dir() and not self.dest.is_symlink() and next(self.dest.iterdir(), None) is not None
        if taken and read_marker(self.dest) is None:
            raise OutputError(
                f"argument {self.flag}: {self.dest} was filled by something else during the run; "
                f"the result is kept in {self.path}"
            )
        old = self.dest.parent / f".{self.dest.name}.old-{os.getpid()}"
        if os.path.lexists(self.dest):
            _rename(self.dest, old)  # a kill from here ...
        _rename(self.path, self.dest)  # ... to here leaves the earlier result in .old, restored by recover()
        self.committed = True
        _remove(old)
        return self.dest


def write_file(path: Path, data: str | bytes) -> None:
    """Write one file atomically: a reader (or a kill) sees the old content or the new, never a part."""
    path = Path(path)
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        _rename(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
