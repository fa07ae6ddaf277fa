"""The asset store in an S3-compatible bucket (`GUIDECAST_S3_BUCKET`, `GUIDECAST_S3_ENDPOINT_URL`; tested
against SeaweedFS), for web processes and workers on several machines.

The same seam as the folder store (server/assets.py `AssetStore`): blobs are content-addressed
(`blobs/<sha[:2]>/<sha256>`), trees are JSON blobs. The bucket holds every blob; the process's local
folder (`DATA_DIR/assets`) is a read-through cache of the blobs this machine has used, so that stages,
`materialize` and the file routes keep reading plain files (and videos are served from it with range
requests). Uploads stream from the staged file (boto3's managed transfer: multipart above 8 MiB), and a
blob the bucket already has is not sent again.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from guidecast.server.assets import AssetStore


class ObjectStore(AssetStore):
    def __init__(self, cache_root: Path, bucket: str, *, endpoint_url: str | None = None, region: str = "us-east-1",
                 access_key: str | None = None, secret_key: str | None = None):
        super().__init__(cache_root)
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key,
                                   aws_secret_access_key=secret_key,
                                   config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5},
                                                 max_pool_connections=32))
        self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    @staticmethod
    def key(sha: str) -> str:
        return f"blobs/{sha[:2]}/{sha}"

    def _remote_has(self, sha: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha))
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def _place(self, sha: str, write) -> str:
        local = self._local_path(sha)
        if local.exists() and self._remote_has(sha):
            os.utime(local)
            return sha

        def write_and_upload(tmp: Path) -> None:
            write(tmp)
            if not self._remote_has(sha):
                self.client.upload_file(str(tmp), self.bucket, self.key(sha))  # streamed from the file

        if local.exists():  # in the cache but not in the bucket (a bucket emptied by hand): send it again
            self.client.upload_file(str(local), self.bucket, self.key(sha))
            return sha
        return super()._place(sha, write_and_upload)

    def blob_path(self, sha: str) -> Path:
        """The blob as a local file: from the cache, else fetched from the bucket into it first."""
        local = self._local_path(sha)
        if not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=local.parent, prefix=".in-")
            os.close(fd)
            try:
                self.client.download_file(self.bucket, self.key(sha), tmp)
                os.chmod(tmp, 0o444)
                os.replace(tmp, local)
            except Exception as e:
                Path(tmp).unlink(missing_ok=True)
                from botocore.exceptions import ClientError

                if isinstance(e, ClientError):
                    raise FileNotFoundError(f"asset {sha} is not in bucket {self.bucket}") from None
                raise
        return local

    def sweep_remote(self, live: set[str], cutoff: float) -> tuple[int, int]:
        """Delete the bucket's blobs that are not in `live` and older than `cutoff` (epoch seconds);
        returns (deleted, bytes freed)."""
        deleted = freed = 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix="blobs/"):
            for obj in page.get("Contents", []):
                sha = obj["Key"].rsplit("/", 1)[-1]
                if sha in live or obj["LastModified"].timestamp() > cutoff:
                    continue
                self.client.delete_object(Bucket=self.bucket, Key=obj["Key"])
                deleted += 1
                freed += obj.get("Size", 0)
        return deleted, freed
