"""ASGI entry point for servers (``uvicorn dandi_archive.asgi:app``); settings from env."""

import logging

from dandi_archive.app import create_app

# Server worker processes (``serve --workers N``) start without the CLI's logging setup.
if not logging.getLogger().handlers:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

app = create_app()
