"""``lamb serve`` from the installed console script, as the README starts it.

The README's first command is ``pip install -e . && lamb serve``: this runs the ``lamb``
entry point that pip generated from pyproject.toml (found in this Python's scripts
folder), not ``python -m lamb``, and checks that it answers the AWS API and says how
much of the installed botocore model it serves.
"""

from __future__ import annotations

import botocore
import pytest

from .conftest import LambServer, wait_for
from .scripts import installed_script


@pytest.mark.smoke
def test_lamb_serve_from_the_installed_console_script():
    server = LambServer(command=[str(installed_script("lamb"))])
    try:
        server.start()
        health = server.get_json("/_lamb/health")
        ops = health["operations"]
        assert ops["botocore"] == botocore.__version__
        assert ops["model"] == len(server.client().meta.service_model.operation_names)
        assert 0 < ops["served"] <= ops["model"] and ops["served"] + len(ops["not_built"]) == ops["model"]
        line = f"serving {ops['served']} of the {ops['model']} operations of botocore {botocore.__version__}'s Lambda model"
        wait_for(lambda: line in server.log_tail(20000), 10, 0.05, "the start-up line")
        assert server.client().list_functions()["Functions"] == []
    finally:
        server.close()
