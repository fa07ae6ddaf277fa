"""Content-addressed assets under DATA_DIR/assets: files stored once by sha256, folders as trees.
(The same store in an S3-compatible bucket, with this folder as its local cache: server/objectstore.py.)

A tree is a JSON blob `{"relative/path": "<sha256>", ...}`; a bundle folder (capture, guide, video) is
stored as one tree and referred to by the tree's hash. Blobs are immutable (read-only on disk).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from guidecast.kernel.files import sha256_bytes, sha256_file


class AssetStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._tree = lru_cache(maxsize=512)(self._read_tree)
        self._json = lru_cache(maxsize=512)(self._read_json)

    def blob_path(self, sha: str) -> Path:
        return self._local_path(sha)

    def _local_path(self, sha: str) -> Path:
        """Where the blob `sha` lies in the folder (for the object store: its local cache)."""
        if len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha):
            raise ValueError(f"not an asset hash: {sha!r}")
        return self.root / sha[:2] / sha

    def _place(self, sha: str, write) -> str:
        target = self._local_path(sha)
        if target.exists():
            try:
                os.utime(target)  # in use again: young for the sweep's grace period (server/storage.py)
            except OSError:
                pass
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".in-")
            os.close(fd)
            try:
                write(Path(tmp))
                os.chmod(tmp, 0o444)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return sha

    def put_bytes(self, data: bytes) -> str:
        return self._place(sha256_bytes(data), lambda p: p.write_bytes(data))

    def put_file(self, path: Path) -> str:
        return self._place(sha256_file(path), lambda p: shutil.copyfile(path, p))

    def put_tree(self, folder: Path, exclude: frozenset[str] = frozenset()) -> str:
        """Store every file under `folder` (hidden names and top-level `exclude` names skipped) and
        return the tree's hash."""
        folder = Path(folder)
        entries = {}
        for p in sorted(folder.rglob("*")):
            rel = p.relative_to(folder)
            if p.is_file() and rel.parts[0] not in exclude and not any(part.startswith(".") for part in rel.parts):
                entries[rel.as_posix()] = self.put_file(p)
        return self.put_bytes(json.dumps(entries, sort_keys=True).encode())

    def put_files(self, folder: Path, rels: list[str] | dict[str, str]) -> str:
        """Store the named files of `folder` (relative names) as one tree: what a bundle's model names,
        never whatever else the folder holds."""
        folder = Path(folder)
        entries = {rel: self.put_file(folder / rel) for rel in sorted(rels)}
        return self.put_bytes(json.dumps(entries, sort_keys=True).encode())

    def _read_tree(self, sha: str) -> dict[str, str]:
        return json.loads(self.blob_path(sha).read_bytes())

    def tree(self, sha: str) -> dict[str, str]:
        return self._tree(sha)

    def file(self, tree_sha: str, rel: str) -> Path | None:
        """The blob of `rel` inside the tree, or None (never a path outside the store)."""
        sha = self.tree(tree_sha).get(rel)
        return self.blob_path(sha) if sha else None

    def read_text(self, tree_sha: str, rel: str) -> str | None:
        p = self.file(tree_sha, rel)
        return p.read_text("utf-8") if p else None

    def _read_json(self, tree_sha: str, rel: str):
        text = self.read_text(tree_sha, rel)
        return json.loads(text) if text is not None else None

    def read_json(self, tree_sha: str, rel: str):
        """A JSON file of a tree, parsed once (trees never change). Treat the result as read-only."""
        return self._json(tree_sha, rel)

    def materialize(self, tree_sha: str, dest: Path) -> Path:
        """Lay the tree out as a normal folder at `dest` (hard links where possible)."""
        dest = Path(dest)
        for rel, sha in self.tree(tree_sha).items():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                continue
            try:
                os.link(self.blob_path(sha), target)
            except OSError:
                shutil.copyfile(self.blob_path(sha), target)
        return dest
