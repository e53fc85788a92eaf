"""``tickwise topics create``: create every Kafka topic the two flows use, and say which.

``tickwise run`` creates them itself before it starts a cluster; a deployment that starts the
flows another way (the Kubernetes manifests run ``bytewax.run`` per pod, one process of a
multi-pod cluster each) runs this once before the workers: the ticks topic, signals, dead letters,
model events, the kill-switch ``control`` topic (1 partition), and the two topics the signals flow
publishes for the history flow (``<ticks>.features``, ``<ticks>.decisions``), each with
``KAFKA_TICKS_PARTITIONS`` partitions. A topic that exists is left as it is.
"""

from __future__ import annotations

import orjson
import typer

from dataflows.cli.common import (STATE_DIR_DEFAULT, StateDir, command_settings, console, ensure_split_topics,
                                  ensure_topics)

topics_app = typer.Typer(no_args_is_help=True, help="The Kafka topics of the flows.")


@topics_app.command("create")
def create(state_dir: StateDir = STATE_DIR_DEFAULT) -> None:
    """Create every topic the signals and history flows use (existing ones are left as they are)."""
    settings = command_settings(state_dir)
    names = ensure_topics(settings) + ensure_split_topics(settings)
    kafka = settings.kafka
    console.print(f"topics on {kafka.bootstrap}: {', '.join(names)}", soft_wrap=True)
    typer.echo(orjson.dumps({"bootstrap": kafka.bootstrap, "topics": names,
                             "partitions": kafka.ticks_partitions}).decode())
