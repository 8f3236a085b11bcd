"""Function management: Create/Get/GetConfiguration/List/Update*/Delete over boto3."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from botocore.exceptions import ClientError

from .conftest import (DEFAULT_ACCOUNT, REGION, ROLE, code_sha256, create, invoke, make_zip, unique)

LAST_MODIFIED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

ECHO = "def handler(event, context):\n    return {'event': event, 'v': 1}\n"


def _error(excinfo) -> tuple[str, str, int]:
    err = excinfo.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.smoke  # CI runs it under every supported Python
def test_create_function_response_fields(lam, lamb_server):
    name = unique("create")
    zip_bytes = make_zip({"fn.py": ECHO})
    resp = create(lam, name, zip_bytes, wait=False, Description="first")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert resp["FunctionName"] == name
    assert resp["FunctionArn"] == f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT}:function:{name}"
    assert resp["Runtime"] == "python3.12"
    assert resp["Role"] == ROLE
    assert resp["Handler"] == "fn.handler"
    assert resp["CodeSha256"] == code_sha256(zip_bytes)
    assert resp["CodeSize"] == len(zip_bytes)
    assert resp["MemorySize"] == 128
    assert resp["Timeout"] == 3
    assert resp["Description"] == "first"
    assert resp["Version"] == "$LATEST"
    assert LAST_MODIFIED.match(resp["LastModified"]), resp["LastModified"]
    assert UUID.match(resp["RevisionId"]), resp["RevisionId"]
    assert resp["PackageType"] == "Zip"
    assert resp["State"] == "Pending" and "LastUpdateStatus" not in resp  # as AWS answers (tests/integration/test_states.py)

    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["State"] == "Active"
    assert cfg["LastUpdateStatus"] == "Successful"
    assert cfg["CodeSha256"] == code_sha256(zip_bytes)
    assert cfg["CodeSize"] == len(zip_bytes)
    assert UUID.match(cfg["RevisionId"])
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def test_custom_account_and_region(fresh_server):
    server = fresh_server(region="eu-west-2", account_id="123456789012")
    lam = server.client()
    name = unique("acct")
    resp = create(lam, name, ECHO)
    assert resp["FunctionArn"] == f"arn:aws:lambda:eu-west-2:123456789012:function:{name}"
    # the full ARN in this account and region resolves; the function runs with that region
    src = "import os\ndef handler(e, c):\n    return [c.invoked_function_arn, os.environ['AWS_REGION'], os.environ['AWS_DEFAULT_REGION']]\n"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": src}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    full = f"arn:aws:lambda:eu-west-2:123456789012:function:{name}"
    _, out = invoke(lam, full, {})
    assert out == [full, "eu-west-2", "eu-west-2"]
    assert lam.get_function(FunctionName=f"123456789012:function:{name}")["Configuration"]["FunctionArn"] == full
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name + "-missing")
    assert _error(e) == ("ResourceNotFoundException",
                         f"Function not found: arn:aws:lambda:eu-west-2:123456789012:function:{name}-missing", 404)


def test_duplicate_create_conflicts(lam):
    name = unique("dup")
    create(lam, name, ECHO)
    with pytest.raises(ClientError) as e:
        create(lam, name, ECHO, wait=False)
    assert _error(e) == ("ResourceConflictException", f"Function already exist: {name}", 409)


def test_get_function_and_code_location(lam, lamb_server):
    name = unique("get")
    zip_bytes = make_zip({"fn.py": ECHO, "data/x.txt": "hello"})
    created = create(lam, name, zip_bytes)
    got = lam.get_function(FunctionName=name)
    cfg = got["Configuration"]
    for key in ("FunctionName", "FunctionArn", "Runtime", "Handler", "CodeSha256", "CodeSize", "RevisionId",
                "LastModified", "MemorySize", "Timeout", "Version"):
        assert cfg[key] == lam.get_function_configuration(FunctionName=name)[key], key
    assert cfg["FunctionArn"] == created["FunctionArn"]
    assert cfg["CodeSha256"] == code_sha256(zip_bytes)
    assert got["Code"]["RepositoryType"] == "S3"
    location = got["Code"]["Location"]
    assert location.startswith(lamb_server.url + "/"), location
    with urllib.request.urlopen(location, timeout=10) as r:
        assert r.status == 200
        assert r.read() == zip_bytes

    # a tampered signature is refused
    parts = urlsplit(location)
    query = dict(parse_qsl(parts.query))
    sig_key = next(k for k in query if k.lower() in ("signature", "x-amz-signature"))
    sig = query[sig_key]
    query[sig_key] = ("0" if sig[0] != "0" else "1") + sig[1:]
    tampered = urlunsplit(parts._replace(query=urlencode(query)))
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(tampered, timeout=10)
    assert e.value.code == 403
    # and so is a URL without any signature
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(urlunsplit(parts._replace(query="")), timeout=10)
    assert e.value.code == 403


def test_function_name_spellings(lam, lamb_server):
    name = unique("spell")
    create(lam, name, ECHO)
    full = lamb_server.arn(name)
    partial = f"{lamb_server.account_id}:function:{name}"
    for spelling in (name, full, partial):
        assert lam.get_function(FunctionName=spelling)["Configuration"]["FunctionName"] == name, spelling
        assert lam.get_function_configuration(FunctionName=spelling)["FunctionArn"] == full, spelling
        resp, out = invoke(lam, spelling, {"who": spelling})
        assert resp["StatusCode"] == 200 and out == {"event": {"who": spelling}, "v": 1}, spelling
    # qualified spellings with $LATEST
    for spelling in (f"{name}:$LATEST", f"{full}:$LATEST", f"{partial}:$LATEST"):
        resp, out = invoke(lam, spelling, {})
        assert resp["ExecutedVersion"] == "$LATEST" and out["v"] == 1, spelling


def test_unknown_function_not_found(lam, lamb_server):
    name = unique("nope")
    expected = f"Function not found: arn:aws:lambda:us-east-1:{lamb_server.account_id}:function:{name}"
    for call, message in ((lambda: lam.get_function(FunctionName=name), expected),
                          (lambda: lam.get_function_configuration(FunctionName=name), expected),
                          # Invoke's message names $LATEST, as AWS's does
                          (lambda: lam.invoke(FunctionName=name, Payload=b"{}"), expected + ":$LATEST"),
                          (lambda: lam.delete_function(FunctionName=name), expected)):
        with pytest.raises(ClientError) as e:
            call()
        assert _error(e) == ("ResourceNotFoundException", message, 404)
    assert isinstance(e.value, lam.exceptions.ResourceNotFoundException)


def test_list_functions_pagination(fresh_server):
    server = fresh_server()
    lam = server.client()
    names = sorted(unique(f"list{i}") for i in range(5))
    for n in names:
        create(lam, n, ECHO)

    # Marker / NextMarker by hand
    seen, pages, marker = [], [], None
    while True:
        kw = {"MaxItems": 2}
        if marker:
            kw["Marker"] = marker
        page = lam.list_functions(**kw)
        pages.append(len(page["Functions"]))
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert pages == [2, 2, 1]
    assert sorted(seen) == names and len(seen) == len(set(seen))

    # boto3's paginator does the same
    paginator = lam.get_paginator("list_functions")
    page_sizes, via_paginator = [], []
    for page in paginator.paginate(PaginationConfig={"PageSize": 2}):
        page_sizes.append(len(page["Functions"]))
        via_paginator += [f["FunctionName"] for f in page["Functions"]]
    assert page_sizes == [2, 2, 1]
    assert sorted(via_paginator) == names
    limited = paginator.paginate(PaginationConfig={"PageSize": 2, "MaxItems": 3}).build_full_result()
    assert len(limited["Functions"]) == 3 and "NextToken" in limited

    everything = lam.list_functions()
    assert sorted(f["FunctionName"] for f in everything["Functions"]) == names
    assert "NextMarker" not in everything
    one = next(f for f in everything["Functions"] if f["FunctionName"] == names[0])
    assert one["FunctionArn"] == server.arn(names[0])
    assert one["CodeSha256"] == code_sha256(make_zip({"fn.py": ECHO}))


def test_update_function_code(lam):
    name = unique("upcode")
    v1 = make_zip({"fn.py": ECHO})
    created = create(lam, name, v1)
    _, out = invoke(lam, name, {"a": 1})
    assert out == {"event": {"a": 1}, "v": 1}

    v2 = make_zip({"fn.py": "def handler(event, context):\n    return {'v': 2}\n"})
    upd = lam.update_function_code(FunctionName=name, ZipFile=v2)
    assert upd["CodeSha256"] == code_sha256(v2) != created["CodeSha256"]
    assert upd["CodeSize"] == len(v2)
    assert upd["RevisionId"] != created["RevisionId"]
    assert LAST_MODIFIED.match(upd["LastModified"])
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["LastUpdateStatus"] == "Successful"
    # the update's answer is InProgress; settling gives a new RevisionId (as on AWS)
    assert cfg["RevisionId"] != upd["RevisionId"] and cfg["CodeSha256"] == upd["CodeSha256"]
    _, out = invoke(lam, name, {"a": 1})
    assert out == {"v": 2}
    with urllib.request.urlopen(lam.get_function(FunctionName=name)["Code"]["Location"], timeout=10) as r:
        assert r.read() == v2


def test_update_function_configuration(lam):
    name = unique("upconf")
    src = ("import os\n"
           "def handler(event, context):\n"
           "    return {'env': {k: os.environ.get(k) for k in ('GREETING', 'OTHER')},\n"
           "            'mem': context.memory_limit_in_mb, 'remaining': context.get_remaining_time_in_millis()}\n")
    created = create(lam, name, src)
    _, out = invoke(lam, name, {})
    assert out["env"] == {"GREETING": None, "OTHER": None}
    assert out["mem"] == "128"
    assert 0 < out["remaining"] <= 3000

    upd = lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "hi", "OTHER": "x=y"}},
                                            MemorySize=256, Timeout=10, Description="updated")
    assert upd["MemorySize"] == 256 and upd["Timeout"] == 10 and upd["Description"] == "updated"
    assert upd["Environment"] == {"Variables": {"GREETING": "hi", "OTHER": "x=y"}}
    assert upd["RevisionId"] != created["RevisionId"]
    assert upd["CodeSha256"] == created["CodeSha256"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    cfg = lam.get_function_configuration(FunctionName=name)
    assert (cfg["MemorySize"], cfg["Timeout"], cfg["Description"]) == (256, 10, "updated")
    assert cfg["Environment"]["Variables"] == {"GREETING": "hi", "OTHER": "x=y"}

    _, out = invoke(lam, name, {})
    assert out["env"] == {"GREETING": "hi", "OTHER": "x=y"}
    assert out["mem"] == "256"
    assert 3000 < out["remaining"] <= 10000


def test_revision_id_precondition(lam):
    name = unique("rev")
    created = create(lam, name, ECHO)
    # create's answer carries the Pending revision; becoming Active gave a new one
    active = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    assert active != created["RevisionId"]
    upd = lam.update_function_configuration(FunctionName=name, Description="one", RevisionId=active)
    assert upd["RevisionId"] != active
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    current = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    for stale in (created["RevisionId"], active, upd["RevisionId"]):
        with pytest.raises(ClientError) as e:
            lam.update_function_configuration(FunctionName=name, Description="two", RevisionId=stale)
        code, message, status = _error(e)
        assert (code, status) == ("PreconditionFailedException", 412)
        assert message.startswith("The Revision Id provided does not match the latest Revision Id.")
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": ECHO + "#\n"}), RevisionId=active)
    assert _error(e)[0] == "PreconditionFailedException"
    # nothing changed
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["Description"] == "one" and cfg["RevisionId"] == current
    assert cfg["CodeSha256"] == created["CodeSha256"]
    # the current revision is accepted
    ok = lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": ECHO + "#\n"}), RevisionId=current)
    assert ok["RevisionId"] != current


def test_delete_function(lam, lamb_server):
    name = unique("del")
    create(lam, name, ECHO)
    invoke(lam, name, {})
    resp = lam.delete_function(FunctionName=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    expected = f"Function not found: {lamb_server.arn(name)}"
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name)
    assert _error(e) == ("ResourceNotFoundException", expected, 404)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert _error(e) == ("ResourceNotFoundException", expected + ":$LATEST", 404)
    listed = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]]
    assert listed and name not in listed
    # the name is free again
    create(lam, name, ECHO)
    _, out = invoke(lam, name, {"again": True})
    assert out == {"event": {"again": True}, "v": 1}
