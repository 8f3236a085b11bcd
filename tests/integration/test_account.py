"""GetAccountSettings: limits and usage computed from the stored functions."""

from __future__ import annotations

from .conftest import create, make_zip, unique


def test_account_settings(fresh_server):
    server = fresh_server()
    lam = server.client()
    empty = lam.get_account_settings()
    assert empty["AccountUsage"]["FunctionCount"] == 0
    assert empty["AccountUsage"]["TotalCodeSize"] == 0
    limit = empty["AccountLimit"]
    assert limit["ConcurrentExecutions"] == 1000
    assert limit["UnreservedConcurrentExecutions"] == 1000
    assert limit["CodeSizeUnzipped"] == 262144000
    assert limit["CodeSizeZipped"] == 52428800
    assert limit["TotalCodeSize"] == 80530636800

    sizes = {}
    for i in range(3):
        name = unique(f"acct{i}")
        # different code per function (padding) so that the sizes differ
        zip_bytes = make_zip({"fn.py": "def handler(e, c):\n    return 1\n" + "#" * (1000 * i)})
        sizes[name] = create(lam, name, zip_bytes)["CodeSize"]
        assert sizes[name] == len(zip_bytes)
    usage = lam.get_account_settings()["AccountUsage"]
    assert usage["FunctionCount"] == 3
    assert usage["TotalCodeSize"] == sum(sizes.values())

    # an update replaces the code size; a delete removes the function from the count
    first, second = sorted(sizes)[:2]
    bigger = make_zip({"fn.py": "def handler(e, c):\n    return 2\n" + "x" * 5000}, compression=0)
    lam.update_function_code(FunctionName=first, ZipFile=bigger)
    sizes[first] = len(bigger)
    lam.delete_function(FunctionName=second)
    del sizes[second]
    usage = lam.get_account_settings()["AccountUsage"]
    assert usage["FunctionCount"] == 2
    assert usage["TotalCodeSize"] == sum(sizes.values())
