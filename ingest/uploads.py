"""Files maintainers upload in the browser: checked, given a safe name, saved under store/uploads/.

A browser sends whatever name the user's file had, including "../../etc/passwd.md" or
"C:\\report.pdf". Only the last part of the name is kept, reduced to letters, digits and a few
separators, and the file always lands directly inside the uploads folder. Uploading a file with
the same (sanitised) name again replaces the earlier upload, as a new version of that document.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from index.settings import Settings

from .documents import IngestError
from .loaders import SUPPORTED

_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()-]+")
_MAX_STEM = 100


class UploadRejected(IngestError):
    """An upload that is not saved; the message says why, in words a maintainer can act on."""


@dataclass
class UploadResult:
    saved: list[Path] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)  # {"name", "error"}
    replaced: list[Path] = field(default_factory=list)  # saved over an earlier upload: a new version


def uploads_folder(settings: Settings, library: str | None = None) -> Path:
    """Where uploads are kept: the default library's directly in STORE/uploads, another library's in
    a sub-folder named after it (re-indexing the folder then keeps each file in its library)."""
    root = settings.store / "uploads"
    return root if not library or library == settings.default_library else root / library


def library_of_upload(path: Path, settings: Settings) -> str | None:
    """The library an uploaded file belongs to (by its sub-folder); None for a file not uploaded."""
    root = uploads_folder(settings).resolve()
    parent = Path(path).resolve().parent
    if parent == root:
        return settings.default_library
    return parent.name if parent.parent == root else None


def check_library(library: str | None, settings: Settings) -> str:
    """An upload's library: one that settings.libraries names (a typo must not create a library)."""
    library = library or settings.default_library
    if library not in settings.libraries:
        raise UploadRejected(f"there is no library '{library}'; the libraries are "
                             f"{', '.join(sorted(settings.libraries))} (POLICY_ASSISTANT_LIBRARIES)")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", library):
        raise UploadRejected(f"the library name '{library}' cannot be a folder name: use letters, digits, - and _")
    return library


def safe_name(name: str) -> str:
    """The last component of ``name`` with anything but letters, digits, ``._ ()-`` replaced.

    The extension is kept (lower-cased) so the loader can tell the type; a name left empty by
    the cleaning becomes "upload"."""
    base = unicodedata.normalize("NFKC", str(name)).replace("\x00", "")
    base = re.split(r"[\\/]", base)[-1].strip()
    suffix = PurePosixPath(base).suffix.lower() if not base.startswith(".") or base.count(".") > 1 else ""
    if not re.fullmatch(r"\.[a-z0-9]{1,10}", suffix):
        suffix = ""
    original = base[: len(base) - len(suffix)] if suffix else base
    # Accents go ("santé" -> "sante"); letters of other scripts cannot be spelt in the safe set.
    ascii_stem = unicodedata.normalize("NFKD", original).encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE.sub("-", ascii_stem).strip(" .-")
    stem = re.sub(r"-{2,}", "-", stem)[:_MAX_STEM].strip(" .-")
    if ascii_stem != original:
        # "预算.txt" and "计划.txt" would both be "upload.txt", "santé" and "santè" both "sante":
        # a short hash of the name as typed keeps distinct names distinct.
        tag = hashlib.sha256(original.encode("utf-8")).hexdigest()[:6]
        stem = f"{stem}-{tag}" if stem else f"upload-{tag}"
    return f"{stem or 'upload'}{suffix}"


def check_upload(name: str, size: int, settings: Settings) -> str:
    """The safe name to save under, or UploadRejected with the reason."""
    cleaned = safe_name(name)
    suffix = PurePosixPath(cleaned).suffix
    if suffix not in SUPPORTED:
        allowed = ", ".join(sorted(SUPPORTED))
        raise UploadRejected(f"'{suffix or 'no extension'}' files cannot be indexed (allowed: {allowed})")
    if size <= 0:
        raise UploadRejected("the file is empty")
    if size > settings.max_upload_mb * 1024 * 1024:
        raise UploadRejected(f"the file is {size / 1048576:.1f} MB, over the {settings.max_upload_mb:g} MB "
                             "upload limit (POLICY_ASSISTANT_MAX_UPLOAD_MB)")
    return cleaned


def save_upload(name: str, data: bytes, settings: Settings, library: str | None = None) -> Path:
    """Check and write one upload into its library's folder; returns where it was saved."""
    cleaned = check_upload(name, len(data), settings)
    folder = uploads_folder(settings, check_library(library, settings)).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / cleaned
    if target.parent != folder:  # cannot happen after safe_name; kept as the last line of defence
        raise UploadRejected("unsafe file name")
    # Written under a hidden temporary name, then renamed: an ingest running meanwhile never
    # reads half a file (hidden files are skipped when a folder is ingested).
    handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def save_uploads(files: list[tuple[str, bytes]], settings: Settings, library: str | None = None) -> UploadResult:
    """Save each (name, data) pair that passes the checks into ``library``; the others are listed
    with the reason."""
    result = UploadResult()
    taken: dict[str, str] = {}  # saved name -> the name it came from, in this batch
    try:
        folder = uploads_folder(settings, check_library(library, settings))
    except UploadRejected as exc:
        result.rejected = [{"name": name, "error": str(exc)} for name, _ in files]
        return result
    for name, data in files:
        try:
            cleaned = check_upload(name, len(data), settings)
            if cleaned in taken:
                raise UploadRejected(f"it would be saved as '{cleaned}', like '{taken[cleaned]}' in this upload; "
                                     "rename one of them")
            taken[cleaned] = name
            existed = (folder / cleaned).exists()
            path = save_upload(name, data, settings, library)
            result.saved.append(path)
            if existed:
                result.replaced.append(path)
        except UploadRejected as exc:
            result.rejected.append({"name": name, "error": str(exc)})
        except OSError as exc:
            result.rejected.append({"name": name, "error": f"could not be saved ({exc.strerror or exc})"})
    return result


def is_upload(source: str | Path, settings: Settings) -> bool:
    return library_of_upload(Path(source), settings) is not None


def remove_document(source: str, settings: Settings, store=None) -> int:
    """Take a document out of the index. An uploaded file is deleted too, or the next re-ingest
    would bring it back; a corpus file is left alone (the corpus folder is the maintainer's).
    An upload that never made it into the index (it failed) is deleted all the same: otherwise it
    fails again at every re-index and nothing can remove it. Returns the documents taken out of
    the index plus unindexed uploads deleted."""
    from .pipeline import remove

    removed = remove([source], settings, store=store, lock_timeout=5.0)
    if is_upload(source, settings) and Path(source).is_file():
        Path(source).unlink()
        removed = removed or 1
    return removed


def unindexed_uploads(settings: Settings, indexed: set[str]) -> list[Path]:
    """Files in the uploads folder that are not in the index (their indexing failed)."""
    folder = uploads_folder(settings)
    if not folder.is_dir():
        return []
    inside = [p for p in folder.iterdir() if p.is_file()]
    inside += [p for sub in folder.iterdir() if sub.is_dir() and not sub.name.startswith(".")
               for p in sub.iterdir() if p.is_file()]
    return sorted(path for path in inside
                  if not path.name.startswith(".") and str(path.resolve()) not in indexed and str(path) not in indexed)
