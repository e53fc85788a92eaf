"""``python -m dataflows.cli``: the same as the ``tickwise`` console script."""

from dataflows.cli.app import main

main()
