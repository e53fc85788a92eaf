"""``tickwise config``: the settings a command would run with, as environment variables, secrets hidden.

The values are what ``command_settings`` resolves for the state dir: the environment first, then
the embedded stack running there (its random ports) and the state dir itself (chDB, registry),
then the defaults; the ``source`` column says which. A secret (a password, a token, a URL's
credentials) is never printed: URLs keep everything but their credentials, other secrets print
as ``***``.
"""

from __future__ import annotations

import os
from pathlib import Path

from dataflows.cli.common import STATE_DIR_DEFAULT, StateDir, command_settings
from dataflows.cli.output import Format, check_format, print_rows
from dataflows.config import Settings, environment_variables
from dataflows.stack import read_stack
from sinks.redaction import MASK, redact_text, redact_url

SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "CREDENTIAL")


def redacted_settings(settings: Settings, state_dir: Path) -> list[tuple[str, str, str]]:
    """Every setting as ``(VARIABLE, value, source)``, sorted by name, with every secret hidden."""
    stack = read_stack(state_dir)
    from_stack = set(stack.to_env()) if stack is not None else set()
    from_state_dir = {"TICKWISE_STATE_DIR", "TICKWISE_MLFLOW_DIR"} | ({"CLICKHOUSE_URL"} if stack is None else set())
    rows = []
    for name, value in sorted(environment_variables(settings).items()):
        if "://" in value:
            shown = redact_url(value)
        elif name in Settings.SECRETS or any(word in name for word in SECRET_WORDS):
            shown = MASK
        else:
            shown = redact_text(value)
        source = ("environment" if name in os.environ else "embedded stack" if name in from_stack
                  else "state dir" if name in from_state_dir else "default")
        rows.append((name, shown, source))
    return rows


def show_config(state_dir: StateDir = STATE_DIR_DEFAULT, fmt: Format = "table") -> None:
    """Print the effective settings (environment, then the embedded stack of the state dir, then the
    defaults) and where each comes from, with passwords and tokens hidden."""
    check_format(fmt)
    settings = command_settings(Path(state_dir))
    print_rows(("variable", "value", "source"), redacted_settings(settings, Path(state_dir)), fmt,
               title=f"tickwise settings ({state_dir})")
