"""``tickwise``: the command line, the only place that reads the environment.

``app`` holds the Typer app and ``main`` (the console script); ``common`` what every command
shares; one module per command group: ``run`` (stack, run, demo, recovery), ``data`` (produce,
query, features, verify), ``models`` (train, retrain, the registry), ``backtest`` (backtest,
replay, report) and ``bench``.
"""

from dataflows.cli.app import app, main

__all__ = ["app", "main"]
