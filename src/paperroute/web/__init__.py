"""The web hub: an ASGI app (FastAPI + Jinja2 + htmx) over the Hub. ``create_app(config)``."""
