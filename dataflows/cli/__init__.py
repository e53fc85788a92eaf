"""``tickwise``: the command line, the only place that reads the environment.

``app`` holds the Typer app, its global options and ``main`` (the console script); ``common``
what every command shares (the state dir, settings, errors); ``output`` the ``--format
table|csv|json`` results on stdout; ``logs`` logging and progress bars on stderr; one module per
command group: ``run`` (stack, run, demo, recovery), ``data`` (produce, query, features,
verify), ``models`` (train, retrain, the registry), ``backtest`` (backtest, replay, report),
``show_config`` (config) and ``bench``.
"""

from dataflows.cli.app import app, main

__all__ = ["app", "main"]
