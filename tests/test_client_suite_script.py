"""scripts/run_client_suite.py: the environment its client tests run in (mirrors, PATH)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "run_client_suite.py"


@pytest.fixture(scope="module")
def suite():
    spec = importlib.util.spec_from_file_location("run_client_suite", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mirrors_file_gives_only_what_it_sets(suite, tmp_path, monkeypatch):
    monkeypatch.setenv("KEPT_AS_IS", "same")
    mirrors = tmp_path / "mirrors.sh"
    mirrors.write_text(
        'here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)\n'
        "export KEPT_AS_IS=same GIT_CONFIG_COUNT=1\n"
        'export GIT_CONFIG_KEY_0="url.$here/x.bundle.insteadOf"\n'
        "export GIT_CONFIG_VALUE_0=https://github.com/example/x\n"
        "echo noise\n"
    )
    assert suite.sourced_environment(mirrors) == {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{tmp_path}/x.bundle.insteadOf",
        "GIT_CONFIG_VALUE_0": "https://github.com/example/x",
    }


def test_a_mirrors_file_that_fails_stops_the_run(suite, tmp_path):
    broken = tmp_path / "broken.sh"
    broken.write_text("return 3\n")
    with pytest.raises(SystemExit, match="sourcing"):
        suite.sourced_environment(broken)
    with pytest.raises(SystemExit, match="not a file"):
        suite.sourced_environment(tmp_path / "missing.sh")


def test_the_tests_find_this_environments_tools_first(suite, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setenv("DANDI_TESTS_NONETWORK", "1")
    env = suite.test_environment("key", {"GIT_CONFIG_COUNT": "0"})
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert env["GIT_CONFIG_COUNT"] == "0"
    assert env["DANDI_TESTS_DJANGO_API_KEY"] == "key"
    assert "DANDI_TESTS_NONETWORK" not in env
