"""lamb.sandbox.identity: per-uid passwd/group files and the entry point script."""

from __future__ import annotations

import os
import stat
import subprocess

from lamb.sandbox.identity import ENTRYPOINT, USER, Identities, entrypoint


def test_passwd_and_group_name_the_uid(tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nsbx_user1051:x:5:5::/x:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\n")
    ids = Identities(tmp_path / "ids", etc)
    passwd, group = ids.files(1234567)
    assert passwd.read_text() == f"root:x:0:0:root:/root:/bin/sh\n{USER}:x:1234567:1234567::/home/{USER}:/sbin/nologin\n"
    assert group.read_text() == f"root:x:0:\n{USER}:x:1234567:\n"
    assert ids.files(1234567) == (passwd, group)


def test_entrypoint_is_executable_and_wants_a_handler(tmp_path):
    path = entrypoint(tmp_path)
    assert path.read_text() == ENTRYPOINT and stat.S_IMODE(os.stat(path).st_mode) == 0o755
    out = subprocess.run([str(path)], capture_output=True, text=True)
    assert (out.returncode, out.stderr.strip()) == (142, "entrypoint requires the handler name to be the first argument")
