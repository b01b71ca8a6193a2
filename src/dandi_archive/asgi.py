"""ASGI entry point for servers (``uvicorn dandi_archive.asgi:app``); settings from env."""

from .app import create_app

app = create_app()
