"""ASGI entry point for servers (``uvicorn dandi_archive.asgi:app``); settings from env."""

import logging

from dandi_archive.api.bucket import BucketNameTaken
from dandi_archive.app import create_app

# Server worker processes (``serve --workers N``) start without the CLI's logging setup.
if not logging.getLogger().handlers:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

try:
    app = create_app()
except BucketNameTaken as exc:  # a setting that cannot work: one line, as preflight says
    raise SystemExit(f"Error: {exc}") from None
