"""Deployment packages: a content-addressed blob store and safe unpacking.

A zip is stored once under its SHA-256 (``blobs/<hex>.zip``): written to a temp
file, fsynced, renamed into place, and the folder fsynced, so an accepted upload
survives a crash. It is unpacked once into ``code/<hex>/`` (the function's
``/var/task``), also through a temp folder and a rename.

Unpacking enforces AWS's package rules
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): a
file that is not a zip is refused, so is an entry that would land outside the
code root (``../``, absolute paths, symlinks pointing out), and the unzipped
size may not exceed 262,144,000 bytes. Unix modes are kept, so a custom
runtime's ``bootstrap`` stays executable.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..protocol.errors import AwsError, invalid_parameter

UNZIP_ERROR = "Could not unzip uploaded file. Please check your file, then try to upload again."


@dataclass(frozen=True)
class StoredCode:
    key: str  # hex sha256 of the zip
    sha256_b64: str  # AWS's CodeSha256
    size: int  # CodeSize: bytes of the zip
    unzipped_size: int


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _escapes(base: list[str], target: str) -> bool:
    """Whether a relative symlink target, followed from folder ``base``, leaves the root."""
    depth = len(base)
    for part in target.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            return True
    return False


def _check_members(zf: zipfile.ZipFile, limit: int) -> int:
    total = 0
    for info in zf.infolist():
        name = info.filename
        parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
        if name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise invalid_parameter(UNZIP_ERROR)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            target = zf.read(info).decode("utf-8", "replace")
            if target.startswith("/") or _escapes(parts[:-1], target):
                raise invalid_parameter(UNZIP_ERROR)
        total += info.file_size
    if total > limit:
        raise invalid_parameter(f"Unzipped size must be smaller than {limit} bytes")
    return total


def _extract(zf: zipfile.ZipFile, dest: Path) -> None:
    for info in zf.infolist():
        parts = [p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts:
            continue
        target = dest.joinpath(*parts)
        mode = info.external_attr >> 16
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISLNK(mode):
            os.symlink(zf.read(info).decode("utf-8"), target)
            continue
        with zf.open(info) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        perm = stat.S_IMODE(mode) if mode else 0o644
        # Readable by everyone (the runtime runs as another user in the isolating
        # backend); executable bits as packed.
        os.chmod(target, (perm | 0o444) & 0o755)
    for root, dirs, _ in os.walk(dest):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    os.chmod(dest, 0o755)


class CodeStore:
    def __init__(self, root: Path):
        self.blobs = root / "blobs"
        self.code = root / "code"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.code.mkdir(parents=True, exist_ok=True)

    def blob_path(self, key: str) -> Path:
        return self.blobs / f"{key}.zip"

    def code_dir(self, key: str) -> Path:
        return self.code / key

    def put(self, data: bytes, *, unzipped_limit: int) -> StoredCode:
        """Validate, store and unpack a zip (blocking; run it off the event loop)."""
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            unzipped = _check_members(zf, unzipped_limit)
            bad = zf.testzip()
        except AwsError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError):
            raise invalid_parameter(UNZIP_ERROR)
        if bad is not None:
            raise invalid_parameter(UNZIP_ERROR)
        digest = hashlib.sha256(data)
        key = digest.hexdigest()
        blob = self.blob_path(key)
        if not blob.exists():
            fd, tmp = tempfile.mkstemp(dir=self.blobs, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.rename(tmp, blob)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            _fsync_dir(self.blobs)
        self._unpack(key, zf)
        return StoredCode(key, base64.b64encode(digest.digest()).decode(), len(data), unzipped)

    def _unpack(self, key: str, zf: zipfile.ZipFile) -> None:
        dest = self.code_dir(key)
        if dest.exists():
            return
        tmp = Path(tempfile.mkdtemp(dir=self.code, prefix=".unpack-"))
        try:
            _extract(zf, tmp)
            os.rename(tmp, dest)
        except FileExistsError:
            shutil.rmtree(tmp, ignore_errors=True)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if dest.exists():
                return
            if isinstance(e, (IsADirectoryError, NotADirectoryError)):
                raise invalid_parameter(UNZIP_ERROR)
            raise

    def ensure_unpacked(self, key: str) -> Path:
        """The code folder for a stored zip, re-unpacking it if it went missing."""
        dest = self.code_dir(key)
        if not dest.exists():
            with zipfile.ZipFile(self.blob_path(key)) as zf:
                self._unpack(key, zf)
        return dest

    def remove_unreferenced(self, referenced: set[str]) -> None:
        """Delete blobs and code folders no function version uses any more."""
        for blob in self.blobs.glob("*.zip"):
            if blob.stem not in referenced:
                blob.unlink(missing_ok=True)
        for d in self.code.iterdir():
            if not d.name.startswith(".") and d.name not in referenced:
                shutil.rmtree(d, ignore_errors=True)
        for d in self.code.glob(".unpack-*"):
            shutil.rmtree(d, ignore_errors=True)
        for t in self.blobs.glob("*.tmp"):
            t.unlink(missing_ok=True)
