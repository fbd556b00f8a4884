"""``python -m paperroute``: the command line."""

from .cli import main

main()
