"""Progress bars for a running flow: ticks read so far and their rate, from its metrics.

``cluster_progress``: the flow processes run apart from the CLI, so the count is read where
Prometheus reads it: the ``tickwise_ticks_total`` counters (every validation outcome) of each
process's endpoint (``TICKWISE_METRICS_PORT`` + process index), summed, once a second. With no
endpoint (``TICKWISE_METRICS_PORT=0``), on a non-terminal or with ``--quiet`` it is a spinner.
``registry_progress``: a flow run in this process (``backtest``, ``replay``) is read from its own
registry the same way.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from rich.progress import Progress

from dataflows.cli.common import console
from dataflows.cli.logs import progress_bar, progress_shown
from dataflows.config import Settings

TICKS_SAMPLE = "tickwise_ticks_total"
POLL_S = 1.0


def ticks_read(exposition: str) -> int:
    """The sum of every ``tickwise_ticks_total`` sample in a Prometheus text exposition.

    >>> ticks_read('tickwise_ticks_total{outcome="valid"} 10.0\\ntickwise_ticks_total{outcome="rejected"} 2.0\\n')
    12
    """
    return int(sum(sample.value for family in text_string_to_metric_families(exposition)
                   for sample in family.samples if sample.name == TICKS_SAMPLE))


def _read(url: str) -> int | None:
    """Ticks read by one process, or None while its endpoint does not answer (starting, or gone)."""
    try:
        with urllib.request.urlopen(url, timeout=POLL_S / 2) as response:
            return ticks_read(response.read().decode())
    except OSError:
        return None


@contextmanager
def _polling(poll: Callable[..., None], args: tuple[object, ...], name: str) -> Iterator[None]:
    """Run ``poll(*args, stop)`` on a daemon thread while the block runs; stop it and wait for it after."""
    stop = threading.Event()
    poller = threading.Thread(target=poll, args=(*args, stop), name=name, daemon=True)
    poller.start()
    try:
        yield
    finally:
        stop.set()
        poller.join(timeout=2 * POLL_S)


def _poll_registry(registry: CollectorRegistry, progress: Progress, stop: threading.Event) -> None:
    while not stop.wait(POLL_S):
        progress.update(progress.task_ids[0], completed=ticks_read(generate_latest(registry).decode()))


@contextmanager
def registry_progress(registry: CollectorRegistry, description: str, total: int | None) -> Iterator[None]:
    """Show the ticks an in-process flow has read (of ``total`` when known) while the block runs."""
    if not progress_shown():
        with console.status(description):
            yield
        return
    with progress_bar(description, total, "ticks") as progress:
        try:
            with _polling(_poll_registry, (registry, progress), "flow-progress"):
                yield
        finally:
            progress.update(progress.task_ids[0], completed=ticks_read(generate_latest(registry).decode()))


def _poll(urls: list[str], progress: Progress, stop: threading.Event) -> None:
    last: dict[str, int] = {}
    while not stop.wait(POLL_S):
        for url in urls:
            count = _read(url)
            if count is not None:
                last[url] = count  # a process that stopped answering keeps its last count
        progress.update(progress.task_ids[0], completed=sum(last.values()))


@contextmanager
def cluster_progress(settings: Settings, processes: int, description: str, total: int | None) -> Iterator[None]:
    """Show the cluster's ticks read (of ``total`` when known) while the block runs."""
    metrics = settings.metrics
    if not progress_shown() or not metrics.port:
        with console.status(description):
            yield
        return
    urls = [f"http://{metrics.host}:{metrics.port + index}/metrics" for index in range(processes)]
    with progress_bar(description, total, "ticks") as progress, _polling(_poll, (urls, progress), "cluster-progress"):
        yield
