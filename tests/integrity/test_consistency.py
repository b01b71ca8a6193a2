"""``dandi-archive check``: the consistency check the race tests rely on finds damage."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import update

from dandi_archive.cli import main
from dandi_archive.db.models import Folder

from ..helpers import settings_env


def test_check_passes_on_a_sound_archive_and_names_each_problem(api):
    key = api.make_user()
    dandiset = api.create_dandiset(key)
    asset = api.add_asset(key, dandiset, "sub-01/a.txt", b"alpha")
    api.add_asset(key, dandiset, "sub-01/b.txt", b"beta")
    api.wait_for_jobs()
    env = settings_env(api.archive.settings)
    ok = CliRunner().invoke(main, ["check"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "consistent" in ok.output

    blob_key = f"blobs/{asset['blob'][:3]}/{asset['blob'][3:6]}/{asset['blob']}"
    api.archive.store.delete(blob_key)
    with api.archive.db.session(write=True) as session:
        session.execute(update(Folder).where(Folder.path == "sub-01").values(file_count=5))
    bad = CliRunner().invoke(main, ["check"], env=env)
    assert bad.exit_code == 1
    assert f"blob object {blob_key} is missing" in bad.output
    assert "folder 'sub-01'" in bad.output
    assert "2 problem(s)" in bad.output
