"""sha256 of whole files, remembered across runs by what the kernel says about the file.

A score cache keyed by a partial hash (size + first and last MiB) serves stale scores
when a trainer rewrites a middle layer in place, so every byte is hashed. Re-reading a
7B checkpoint on every run or sweep step would cost minutes, so the digest is kept in
the s2sbench cache under the file's stat identity: (resolved path, device, inode, size,
mtime_ns, ctime_ns). ctime is in the key because, unlike mtime, no program can set it
back: an in-place rewrite whose mtime was restored with ``os.utime`` still changes it, so
it is re-hashed. A digest is not remembered while the file is younger than
``RACY_SECONDS`` (a file written again within the clock's granularity could keep every
stat field; git calls this "racily clean"), so a fresh file is hashed again next time.

Entries are one small file each, written by rename, so concurrent runs (Ray actors, two
sweeps) never see half an entry; a lost or damaged entry only costs a re-hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from pathlib import Path

from s2sbench.core.atomic_write import write_atomic
from s2sbench.core.errors import StoreError
from s2sbench.core.paths import cache_root

RACY_SECONDS = 2.0
BLOCK = 1 << 20


def _stat_key(path: Path) -> tuple[Path, str]:
    resolved = path.resolve()
    st = resolved.stat()
    fields = (
        str(resolved),
        st.st_dev,
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
    )
    key = hashlib.sha256("\0".join(map(str, fields)).encode("utf-8", "surrogateescape"))
    return resolved, key.hexdigest()


def _entry(key: str) -> Path:
    return cache_root() / "file-sha256" / key[:2] / key


def _read_entry(entry: Path) -> str | None:
    try:
        text = entry.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else None


def _write_entry(entry: Path, digest: str) -> None:
    """Best effort: a read-only or full cache means hashing again next time, nothing worse."""
    with contextlib.suppress(StoreError):
        write_atomic(entry, digest + "\n")


def hash_file(path: str | Path) -> str:
    """sha256 (hex) of every byte of ``path``, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """sha256 of the whole file, read only when its stat identity is new to the cache."""
    resolved, key = _stat_key(Path(path))
    entry = _entry(key)
    cached = _read_entry(entry)
    if cached is not None:
        return cached
    digest = hash_file(resolved)
    after_resolved, after_key = _stat_key(resolved)
    st = after_resolved.stat()
    settled = time.time() - max(st.st_mtime_ns, st.st_ctime_ns) / 1e9 > RACY_SECONDS
    if after_key == key and settled:  # unchanged while read, and old enough to trust its stat
        _write_entry(entry, digest)
    return digest
