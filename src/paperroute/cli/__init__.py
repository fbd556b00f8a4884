"""The command line (``paperroute``): parse arguments, call the use cases, print. Nothing else
lives here.

``app.py`` builds the Typer app and registers the commands of each command module
(``papers``, ``ingest``, ``search``, ``web``, ``digest``, ``users``); the command modules
share the helpers of ``_common.py`` and import neither ``app.py`` nor this package.
"""

from .app import app, main

__all__ = ["app", "main"]
