"""What a person's notebook server finds in its environment: this archive and their key.

The dandi client reads the key from ``<INSTANCE NAME>_API_KEY``, the instance's name
being the one the client gives this archive (a host and port for an instance it does
not know, see ``handbook.values``), and finds the archive from ``DANDI_INSTANCE``; so
``DandiAPIClient()`` and ``dandi ls`` work there without a word of configuration.
``DANDI_API_KEY`` and ``DANDI_API_URL`` say the same for other tools and notebooks.
"""

from __future__ import annotations

from dandi_archive.handbook.values import client_instance_name


def api_key_variable(api_url: str) -> str:
    """The variable the dandi client reads this archive's API key from."""
    return f"{client_instance_name(api_url).upper().replace('-', '_')}_API_KEY"


def notebook_environment(api_url: str, api_key: str) -> dict[str, str]:
    return {
        "DANDI_API_URL": api_url,
        "DANDI_INSTANCE": api_url,
        "DANDI_API_KEY": api_key,
        api_key_variable(api_url): api_key,
    }
