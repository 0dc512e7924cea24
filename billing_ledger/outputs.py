"""Files the ledger writes for people (reconciliation files, invoices): only under the
output folder it is given, with names checked before anything is written.

:func:`plan` turns names derived from ids and dates into paths, refusing any that would
climb out of the folder (a separator, ``..``, a symbolic link that points elsewhere) or
exceed the file system's 255-byte limit on a name; a write of several files plans all of
them first, so a refusal writes none. :func:`write` then writes each file whole (to a
temporary name, then renamed).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from ledger.bounds import FILE_NAME_MAX_BYTES, shown
from ledger.errors import InvalidOutputPath


def _component(part: str, name: str) -> str:
    if (not part or part in {".", ".."} or "/" in part or "\\" in part or "\0" in part
            or (os.altsep and os.altsep in part)):
        raise InvalidOutputPath(f"cannot write {shown(name)}: {shown(part)} is not a file name")
    if len(part.encode("utf-8", "surrogateescape")) > FILE_NAME_MAX_BYTES:
        raise InvalidOutputPath(f"cannot write {shown(name)}: a file name is at most "
                                f"{FILE_NAME_MAX_BYTES} bytes")
    return part


def plan(folder: str | os.PathLike[str], names: Sequence[Sequence[str] | str]) -> list[Path]:
    """The paths of ``names`` under ``folder``, each a file name or a sequence of path
    components (a sub-folder, then a file name); InvalidOutputPath if any would not stay
    under ``folder`` or is too long. Nothing is created."""
    base = Path(folder)
    check_writable(base)
    root = base.resolve()
    paths: list[Path] = []
    for name in names:
        parts = [name] if isinstance(name, str) else list(name)
        shown_name = "/".join(parts)
        path = base.joinpath(*(_component(part, shown_name) for part in parts))
        if not path.resolve().is_relative_to(root):
            raise InvalidOutputPath(f"cannot write {shown(shown_name)}: it would leave {base}")
        if path in paths:
            raise InvalidOutputPath(f"cannot write {shown(shown_name)} twice")
        paths.append(path)
    return paths


def check_writable(folder: str | os.PathLike[str]) -> None:
    """InvalidOutputPath unless ``folder`` is a folder this process can write in, or can be
    created where its nearest existing parent is one (nothing is created)."""
    path = Path(folder)
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = "is not a folder" if existing == path else f"cannot be created: {existing} is not a folder"
        raise InvalidOutputPath(f"output folder {path} {what}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidOutputPath(f"output folder {path} cannot be written"
                                + ("" if existing == path else f" ({existing} is not writable)"))


def write(files: Mapping[Path, bytes | str]) -> None:
    """Write each file whole: to a temporary name beside it, then renamed over it (its
    folder created first). For files :func:`plan` named: a path the user gave as it is
    (``invoice --out /dev/stdout``) is written in place instead."""
    for path, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".tmp-{uuid.uuid4().hex}")
        try:
            with open(temporary, "xb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except OSError as error:  # named by the file asked for, not the temporary one
            temporary.unlink(missing_ok=True)
            raise OSError(error.errno, error.strerror, str(path)) from None
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
