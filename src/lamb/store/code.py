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

AWS answers an archive it cannot unpack with ``InvalidParameterValueException``
"Could not unzip uploaded file. …"; Lamb gives the same answer for an encrypted
entry and for a name Linux cannot hold (a component over 255 bytes, a path over
4,096, a NUL), all judged before anything is written. An archive with no entries (only
the end-of-central-directory record, 22 bytes) gets AWS's "Uploaded file must be
a non-empty zip" (seen from AWS for such a 22-byte zip: tobilg/lsh#1).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import os
import shutil
import stat
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..protocol.errors import AwsError, invalid_parameter
from ..safe_path import UnsafePath, contained

UNZIP_ERROR = "Could not unzip uploaded file. Please check your file, then try to upload again."
EMPTY_ZIP_ERROR = "Uploaded file must be a non-empty zip"
# Linux's NAME_MAX and PATH_MAX: longer names cannot be unpacked into /var/task.
_NAME_MAX = 255
_PATH_MAX = 4096 - len("/var/task/")


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


def _unusable_name(name: str, parts: list[str]) -> bool:
    if name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":") or "\0" in name:
        return True
    encoded = [p.encode("utf-8", "surrogateescape") for p in parts]
    return any(len(p) > _NAME_MAX for p in encoded) or sum(len(p) + 1 for p in encoded) > _PATH_MAX


def _check_members(zf: zipfile.ZipFile, limit: int) -> int:
    infos = zf.infolist()
    if not infos:
        raise invalid_parameter(EMPTY_ZIP_ERROR)
    total = 0
    for info in infos:
        name = info.filename
        parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
        # zipfile cuts a name at NUL; orig_filename keeps what the archive says.
        if _unusable_name(info.orig_filename, parts) or info.flag_bits & 0x1:  # bit 0: the entry is encrypted
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


def _inside(dest: Path, path: Path) -> bool:
    """Whether ``path`` (after following every symlink physically) is within ``dest``."""
    real_dest = os.path.realpath(dest)
    real = os.path.realpath(path)
    return real == real_dest or real.startswith(real_dest + os.sep)


def _extract(zf: zipfile.ZipFile, dest: Path) -> None:
    """Unpack without ever writing through a symlink the archive itself created.

    Link targets were judged lexically in ``_check_members``; links can still
    chain (``x -> y/..`` with ``y -> .``), so every file and folder is written
    only when its real parent is inside ``dest``, and symlinks are created last
    and checked physically once they all exist.
    """
    links = []
    for info in zf.infolist():
        parts = [p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts:
            continue
        try:
            target = contained(dest, *parts)  # no link exists yet: lexical, and physical for folders made so far
        except UnsafePath:
            raise invalid_parameter(UNZIP_ERROR)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            links.append((target, zf.read(info).decode("utf-8")))
            continue
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            raise invalid_parameter(UNZIP_ERROR)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with zf.open(info) as src, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        perm = stat.S_IMODE(mode) if mode else 0o644
        # Readable by everyone (the runtime runs as another user in the isolating
        # backend); executable bits as packed.
        os.chmod(target, (perm | 0o444) & 0o755)
    for target, link in links:
        if not _inside(dest, target.parent):
            raise invalid_parameter(UNZIP_ERROR)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link, target)
    for target, _ in links:
        if not _inside(dest, target):
            raise invalid_parameter(UNZIP_ERROR)
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
        # put() and remove_unreferenced() exclude each other: a zip being stored is not
        # referenced yet, and the collector must not take it (or its folder) meanwhile.
        self._lock = threading.Lock()

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
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError,
                RuntimeError):  # RuntimeError: zipfile's "File … is encrypted"
            raise invalid_parameter(UNZIP_ERROR)
        if bad is not None:
            raise invalid_parameter(UNZIP_ERROR)
        digest = hashlib.sha256(data)
        key = digest.hexdigest()
        with self._lock:
            return self._put(data, digest, key, zf, unzipped)

    def _put(self, data: bytes, digest, key: str, zf: zipfile.ZipFile, unzipped: int) -> StoredCode:
        blob = self.blob_path(key)
        written = not blob.exists()
        if not written:
            os.utime(blob)  # young again: the collector keeps recent blobs
        else:
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
        try:
            self._unpack(key, zf)
        except AwsError:
            if written:  # refused: leave nothing of it behind
                blob.unlink(missing_ok=True)
            raise
        return StoredCode(key, base64.b64encode(digest.digest()).decode(), len(data), unzipped)

    def _unpack(self, key: str, zf: zipfile.ZipFile) -> None:
        dest = self.code_dir(key)
        if dest.exists():
            return
        tmp = Path(tempfile.mkdtemp(dir=self.code, prefix=".unpack-"))
        try:
            try:
                _extract(zf, tmp)
            except (FileExistsError, IsADirectoryError, NotADirectoryError):
                # Entries that collide (a file and a folder or link of one name).
                raise invalid_parameter(UNZIP_ERROR)
            except OSError as e:
                if e.errno not in (errno.ENAMETOOLONG, errno.ELOOP):  # a name or link chain Linux cannot hold
                    raise
                raise invalid_parameter(UNZIP_ERROR)
            try:
                os.rename(tmp, dest)
            except OSError:
                if not dest.exists():  # not a concurrent unpack of the same zip
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def ensure_unpacked(self, key: str) -> Path:
        """The code folder for a stored zip, re-unpacking it if it went missing."""
        dest = self.code_dir(key)
        if not dest.exists():
            with zipfile.ZipFile(self.blob_path(key)) as zf:
                self._unpack(key, zf)
        return dest

    def remove_unreferenced(self, referenced: set[str], min_age_s: float = 0.0) -> None:
        """Delete blobs and code folders no function version uses any more (nor stored recently)."""
        with self._lock:
            cutoff = time.time() - min_age_s
            young = {p.stem for p in self.blobs.glob("*.zip") if p.stat().st_mtime > cutoff}
            self._remove(referenced | young)

    def _remove(self, referenced: set[str]) -> None:
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
