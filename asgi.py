"""ASGI entry point: `uvicorn asgi:app` (settings come from the environment)."""

from live.app import create_app

app = create_app()
