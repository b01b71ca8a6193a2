"""Run JupyterHub, in this process, configured to sign people in through the archive.

Everything the hub keeps lives in ``<data dir>/hub/``: its database
(``jupyterhub.sqlite``), cookie secret, the key encrypting auth states (``crypt_key``),
its OAuth client (``oauth-client.json``), the local servers' home folders (``homes/``)
and, when it was installed here, the proxy (``node/``). An optional
``jupyterhub_config.py`` there (or ``--config``) is read last and may change anything,
e.g. the spawner, the single-user image or resource limits.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from dandi_archive.config import Settings
from dandi_archive.hub.authenticator import ArchiveAuthenticator
from dandi_archive.hub.notebooks import open_dandiset
from dandi_archive.hub.registration import HubClient
from dandi_archive.oauth.provider import metadata

# Shortcuts of --spawner; anything else is passed to JupyterHub as given (a dotted class
# name or a spawner's entry point name).
SPAWNERS = {
    "local": "jupyterhub.spawner.SimpleLocalProcessSpawner",
    "docker": "dockerspawner.DockerSpawner",
    "kubernetes": "kubespawner.KubeSpawner",
}
CRYPT_KEY_FILE = "crypt_key"
CONFIG_FILE = "jupyterhub_config.py"


@dataclass(frozen=True)
class HubOptions:
    settings: Settings
    ip: str = "127.0.0.1"
    port: int = 8888
    public_url: str | None = None  # defaults to http://<ip>:<port>
    spawner: str = "local"
    config_file: Path | None = None

    @property
    def hub_dir(self) -> Path:
        return (self.settings.data_dir / "hub").resolve()

    @property
    def url(self) -> str:
        return (self.public_url or f"http://{self.ip}:{self.port}").rstrip("/")

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/hub/oauth_callback"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crypt_key(hub_dir: Path) -> str:
    """The key auth states (API keys, tokens) are encrypted with, made once."""
    path = hub_dir / CRYPT_KEY_FILE
    if not path.exists():
        hub_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def hub_config(options: HubOptions, client: HubClient, proxy_command: Path) -> Config:
    settings, hub_dir = options.settings, options.hub_dir
    provider = metadata(settings)
    c = Config()
    c.JupyterHub.bind_url = f"http://{options.ip}:{options.port}"
    if options.public_url:
        c.JupyterHub.public_url = options.url + "/"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{free_port()}"
    c.JupyterHub.db_url = f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(hub_dir / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(hub_dir / "jupyterhub.pid")
    if options.config_file:  # else JupyterHub reads jupyterhub_config.py in hub_dir, if any
        c.JupyterHub.config_file = str(options.config_file)
    c.JupyterHub.user_redirect_hook = open_dandiset

    c.ConfigurableHTTPProxy.command = [str(proxy_command)]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{free_port()}"
    c.ConfigurableHTTPProxy.pid_file = str(hub_dir / "proxy.pid")

    c.JupyterHub.authenticator_class = ArchiveAuthenticator
    auth = c.ArchiveAuthenticator
    auth.client_id = client.client_id
    auth.client_secret = client.client_secret
    auth.oauth_callback_url = client.redirect_uri
    auth.authorize_url = provider["authorization_endpoint"]
    auth.token_url = provider["token_endpoint"]
    auth.userdata_url = provider["userinfo_endpoint"]
    auth.archive_api_url = settings.api_url
    auth.auto_login = True  # /hub/login goes straight to the archive's sign-in

    c.JupyterHub.spawner_class = SPAWNERS.get(options.spawner, options.spawner)
    _local_servers(c, hub_dir)
    return c


def _local_servers(c: Config, hub_dir: Path) -> None:
    """Servers as local processes: this Python (its dandi, pynwb, JupyterLab), a home
    folder each under the hub's folder. Other spawners ignore these settings."""
    c.SimpleLocalProcessSpawner.home_dir_template = str(hub_dir / "homes" / "{username}")
    c.LocalProcessSpawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
    c.Spawner.default_url = "/lab"
    if os.geteuid() == 0:  # Jupyter servers refuse to run as root unless told
        c.LocalProcessSpawner.args = ["--ServerApp.allow_root=True"]


def run(config: Config, hub_dir: Path) -> None:
    """Run the hub until it is stopped (SIGINT or SIGTERM stop its servers and proxy)."""
    from jupyterhub.app import JupyterHub

    hub_dir.mkdir(parents=True, exist_ok=True)
    os.environ["JUPYTERHUB_CRYPT_KEY"] = crypt_key(hub_dir)
    # Local servers find `dandi`, `python` and `jupyter` of this environment on PATH.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    # The hub's files (and the servers' default cwd) stay out of the caller's folder.
    os.chdir(hub_dir)
    JupyterHub.instance(config=config)
    JupyterHub.launch_instance([])


def describe(options: HubOptions, client: HubClient, registered: bool) -> list[str]:
    lines = [f"DANDI Hub at {options.url}/ (signing in through {options.settings.public_url})"]
    if registered:
        lines.append(f"Registered OAuth client {client.client_id} for {client.redirect_uri}")
    lines.append(
        f"Link it from the archive's pages: DANDI_ARCHIVE_HUB_URL={options.url} "
        "(set where `dandi-archive serve` runs)"
    )
    return lines
