import os
import stat

from lamb.identity import profile


def test_sections_are_kept_and_the_file_is_0600(tmp_path):
    profile.write_section(tmp_path, "default", {"aws_access_key_id": "AKIA1", "aws_secret_access_key": "s",
                                                "endpoint_url": "http://127.0.0.1:9000", "region": "us-east-1"})
    profile.write_section(tmp_path, "account-2", {"aws_access_key_id": "AKIA2", "aws_secret_access_key": "t"})
    assert stat.S_IMODE(os.stat(profile.path_in(tmp_path)).st_mode) == 0o600
    out = profile.exports(tmp_path)
    assert "export AWS_ACCESS_KEY_ID=AKIA1" in out and "export AWS_ENDPOINT_URL=http://127.0.0.1:9000" in out
    assert "export AWS_DISABLE_HOST_PREFIX_INJECTION=true" in out  # StartLiveTail's "stream-" host prefix
    assert "AKIA2" in profile.exports(tmp_path, "account-2")
