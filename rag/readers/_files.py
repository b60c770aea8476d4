"""Which files a corpus holds, and reading them safely: no leaving the root, bounded reads.

Links that lead out of the folder being indexed are not followed unless asked
(``follow_links``); only regular files are read (a FIFO would block, ``/dev/zero`` never
ends), never more than the size limit; every path skipped is reported with its reason.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from rag.core.documents import ReadError
from rag.readers._text import FormatError

Report = Callable[[Path, str], None]


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _link_target(path: Path) -> Path | str:
    """Where a link finally points, or why it cannot be followed."""
    try:
        return path.resolve(strict=True)
    except RuntimeError:
        return "a symbolic link loop"
    except FileNotFoundError:
        return "a broken symbolic link"
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return "a symbolic link loop"
        return f"a symbolic link that cannot be followed ({exc.strerror or exc})"


def walk(
    folder: Path, *, accept: Callable[[str], bool], report: Report, follow_links: bool
) -> Iterator[Path]:
    """Files under ``folder`` whose names ``accept`` takes, in sorted order.

    Hidden folders are skipped; unreadable folders, links out of ``folder`` (unless
    ``follow_links``), link loops and files that are not regular files are reported.
    """
    root = folder.resolve()

    def unreadable(error: OSError) -> None:
        report(Path(error.filename or folder), f"cannot read folder: {error.strerror or error}")

    for current, dirnames, filenames in os.walk(folder, onerror=unreadable,
                                                followlinks=follow_links):
        kept = []
        for name in sorted(d for d in dirnames if not d.startswith(".")):
            path = Path(current, name)
            if path.is_symlink() and not follow_links:
                target = _link_target(path)
                if isinstance(target, str):
                    report(path, f"skipped: {target}")
                elif not _inside(target, root):
                    report(path, f"skipped: a symbolic link to the folder {target}, outside "
                                 f"{folder} (give --follow-links to read it)")
                continue  # a link inside the root names a folder that is walked anyway
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if not accept(name):
                continue
            path = Path(current, name)
            if path.is_symlink():
                target = _link_target(path)
                if isinstance(target, str):
                    report(path, f"skipped: {target}")
                    continue
                if not follow_links and not _inside(target, root):
                    report(path, f"skipped: a symbolic link to {target}, outside {folder} "
                                 "(give --follow-links to read it)")
                    continue
            yield path


def source_files(
    paths: Iterable[Path],
    *,
    accept: Callable[[str], bool],
    errors: list[ReadError],
    shown: Callable[[Path], str],
    follow_links: bool = False,
) -> Iterator[Path]:
    """Files named in ``paths``, folders expanded (see :func:`walk`), each file once."""
    seen: set[Path] = set()

    def report(path: Path, reason: str) -> None:
        errors.append(ReadError(shown(path), reason))

    for given in paths:
        path = Path(given)
        if path.is_dir():
            found: Iterable[Path] = walk(path, accept=accept, report=report,
                                         follow_links=follow_links)
        elif path.exists():
            found = [path]  # a file named outright is read even through a link
        elif path.is_symlink():
            report(path, f"skipped: {_link_target(path)}")
            continue
        else:
            report(path, "no such file or directory")
            continue
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                yield file


def check_regular(path: Path) -> int:
    """The size of ``path`` when it is a regular file (following links); FormatError
    saying what it is otherwise. Nothing is opened."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise FormatError("no such file") from None
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise FormatError("is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise FormatError(f"{_kind(info.st_mode)}, not a regular file: not read")
    return info.st_size


def read_bounded(path: Path, *, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; FormatError saying why not."""
    size = check_regular(path)
    if size > max_bytes:
        raise FormatError(f"file too large: {size} bytes (limit {max_bytes} bytes)")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:  # it grew since it was measured
        raise FormatError(f"file too large: more than {max_bytes} bytes (limit {max_bytes} bytes)")
    return data
