"""The ``lamb`` command.

    lamb serve [--host H] [--port P] [--https-port P] [--data-dir D] [--region R] [--account-id A]
    lamb runtimes install [NAME ...]
    lamb runtimes versions [--region R]
    lamb deploy TEMPLATE [--stack-name S] [--parameter-overrides K=V ...] [--dry-run] [--watch]
    lamb deploy --delete STACK
    lamb stacks
    lamb credentials [--data-dir D] [--profile P]
    lamb env [--data-dir D] [--profile P]          eval "$(lamb env)"
    lamb accounts create [--data-dir D]
    lamb keys rotate [--data-dir D]                (with Lamb stopped)
    lamb usage [--endpoint URL] [--month M] [--function F] [--json]
    lamb sign --profile-name P [--data-dir D] IN.zip OUT.zip   (code signing, offline)

``serve`` runs the platform in the foreground until SIGINT/SIGTERM, then stops
every environment and zygote it started. ``runtimes install`` builds the
runtime roots ahead of time (``serve`` builds missing ones on first use).
``runtimes versions`` prints the runtime version (name and ARN) this Lamb runs
for each runtime: what ``PutRuntimeManagementConfig`` can pin. ``deploy`` and
``stacks`` are clients of a running Lamb (lamb/deploy/).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from .config import DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, Settings


def _serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env(
        host=args.host,
        port=args.port,
        https_port=args.https_port,
        data_dir=args.data_dir,
        region=args.region,
        account_id=args.account_id,
        keep_alive_s=args.keep_alive,
        sandbox=args.sandbox,
        network=args.network,
        network_host_ports=args.network_host_ports,
        network_dns=args.network_dns,
        tmp=args.tmp,
        env_memory_mb=args.env_memory_mb,
        auth=args.auth,
        auth_off_anywhere=True if args.auth_off_anywhere else None,
        debug=",".join(args.debug) if args.debug else None,
    )
    problem = auth_problem(settings)
    if problem:
        print(problem, file=sys.stderr, flush=True)
        return 2
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(_run(settings))


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def auth_problem(settings: Settings) -> str | None:
    """Why these settings must not run: authentication off on an address others reach."""
    if settings.auth not in ("on", "off"):
        return f"lamb: --auth must be on or off, not {settings.auth!r}"
    if settings.auth == "off" and settings.host not in LOOPBACK and not settings.auth_off_anywhere:
        return (f"lamb: refusing to listen on {settings.host} with authentication off: anyone who reaches the port "
                f"could run code. Use --auth on, or add --auth-off-anywhere if you mean it.")
    return None


AUTH_OFF_BANNER = """\
************************************************************************************
WARNING: AUTHENTICATION IS OFF (--auth off / LAMB_AUTH=off). Lamb accepts ANY
credentials on {host}: every caller is the account's root, no identity policy applies,
and /_lamb/ is open. Anyone who reaches the port can read, change and run every
function. Leave out --auth off to check SigV4 signatures against Lamb's keys.
************************************************************************************"""


async def _run(settings: Settings) -> int:
    from .api.coverage import describe
    from .app import Lamb

    from .master_key import MasterKeyError

    try:
        lamb = Lamb(settings)
    except MasterKeyError as e:  # KMS refused or is unreachable: no secret can be opened
        print(f"lamb: {e}", file=sys.stderr)
        return 1
    await lamb.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if settings.auth == "off":
        print(AUTH_OFF_BANNER.format(host=settings.host), file=sys.stderr, flush=True)
    else:
        print(f"Credentials: {settings.data_dir / 'credentials'} (lamb credentials; eval \"$(lamb env)\")", flush=True)
    print(
        f"Lamb listening on http://{settings.host}:{lamb.port} "
        + (f"and https://{settings.host}:{lamb.https_port} " if lamb.https_port is not None else "") +
        f"(data dir {settings.data_dir}, region {settings.region}, account {settings.account_id}, "
        f"sandbox: {lamb.sandbox.describe()}; {describe(lamb.operations)})",
        flush=True,
    )
    await stop.wait()
    await lamb.stop()
    print("Lamb stopped", flush=True)
    return 0


def _runtimes_install(args: argparse.Namespace) -> int:
    from .runtimes import manager

    settings = Settings.from_env()
    names = args.names or list(manager.SUPPORTED)
    status = 0
    for name in names:
        try:
            rt, interpreter = manager.resolve(name, settings.runtime_cache, node_client=settings.node_runtime_client,
                                               python_client=settings.python_runtime_client)
            print(f"{name}: {rt.root or '(the function brings its bootstrap)'} ({rt.node or interpreter})")
        except manager.RuntimeUnavailable as e:
            print(f"{name}: unavailable: {e}")
            status = 1 if args.names else status
    return status


def _runtimes_versions(args: argparse.Namespace) -> int:
    from .runtimes import manager, versions

    region = args.region or Settings.from_env().region
    for name in manager.SUPPORTED:
        v = versions.current(region, name)
        print(f"{name}\t{v.name}\t{v.arn}")
    return 0


def _data_dir(args: argparse.Namespace):
    return Settings.from_env(data_dir=args.data_dir).data_dir


def _credentials(args: argparse.Namespace) -> int:
    from .identity import profile

    cp = profile.read(_data_dir(args))
    if not cp.has_section(args.profile):
        print(f"no profile [{args.profile}] in {profile.path_in(_data_dir(args))}; start Lamb once first", file=sys.stderr)
        return 1
    print(f"[{args.profile}]")
    for k, v in cp[args.profile].items():
        print(f"{k} = {v}")
    return 0


def _env(args: argparse.Namespace) -> int:
    from .identity import profile

    try:
        print(profile.exports(_data_dir(args), args.profile))
    except KeyError as e:
        print(e.args[0], file=sys.stderr)
        return 1
    return 0


def _accounts_create(args: argparse.Namespace) -> int:
    from .identity import profile
    from .identity.store import IdentityStore
    from .store.db import Database

    settings = Settings.from_env(data_dir=args.data_dir)
    db = Database(settings.db_path)
    try:
        store = IdentityStore(db, _master_keys(settings).sealer())
        account, key = store.create_account()
    finally:
        db.close()
    default = profile.read(settings.data_dir)
    values = {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": key.secret, "account_id": account["Id"]}
    if default.has_section("default"):
        values.update({k: default["default"][k] for k in ("region", "endpoint_url") if k in default["default"]})
    section = f"account-{account['Id']}"
    profile.write_section(settings.data_dir, section, values)
    print(f"account {account['Id']}: root key in profile [{section}] of {profile.path_in(settings.data_dir)}")
    print(f"aws_access_key_id = {key.access_key_id}\naws_secret_access_key = {key.secret}")
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    from .identity.rotation import rotate
    from .store.db import Database

    settings = Settings.from_env(data_dir=args.data_dir)
    db = Database(settings.db_path)
    # Other accounts' and regions' databases (lamb.scopes: <data dir>/accounts/<account>/<region>/lamb.db).
    others = [Database(path) for path in sorted(settings.data_dir.glob("accounts/*/*/lamb.db"))]
    keys = _master_keys(settings)
    try:
        changed = rotate(db, keys, others)
    finally:
        for each in (db, *others):
            each.close()
    print(f"master key rotated: {changed} records rewrapped ({keys.where()})")
    return 0


def _master_keys(settings: Settings):
    """The data folder's master key (lamb.master_key): its file, or KMS through boto3's configuration."""
    from .master_key import MasterKeys
    from .services.aws_clients import AwsClients

    return MasterKeys(settings.master_key_path, settings.master_key_kms, lambda: AwsClients(settings.region).get("kms"))


def _usage(args) -> int:
    """``lamb usage``: the running server's ``/_lamb/usage``, as a table or JSON."""
    import json
    import os
    import urllib.parse
    import urllib.request

    from .deploy.stack_client import OperatorSigner
    from .services.metering import table

    endpoint = args.endpoint or (f"http://{os.environ.get('LAMB_HOST') or DEFAULT_HOST}:"
                                 f"{os.environ.get('LAMB_PORT') or DEFAULT_PORT}")
    query = urllib.parse.urlencode({k: v for k, v in (("month", args.month), ("function", args.function)) if v})
    try:
        # /_lamb/ is the operator's: signed with the standard credentials (eval "$(lamb env)").
        req = OperatorSigner().request("GET", f"{endpoint.rstrip('/')}/_lamb/usage?{query}")
        with urllib.request.urlopen(req, timeout=30) as r:
            doc = json.loads(r.read())
    except OSError as e:
        print(f"lamb usage: cannot reach {endpoint}: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(doc, indent=2) + "\n" if args.json else table(doc))
    return 0


def _sign(args: argparse.Namespace) -> int:
    from .signing.envelope import NotAZip
    from .signing.offline import sign_file
    from .store.db import Database

    settings = Settings.from_env(data_dir=args.data_dir)
    db = Database(settings.db_path)
    try:
        job = sign_file(db, _master_keys(settings).sealer(), region=settings.region,
                        account=settings.account_id, profile_name=args.profile_name, source=Path(args.zip),
                        destination=Path(args.output), requested_by="lamb sign")
    except (LookupError, PermissionError, NotAZip, OSError) as e:
        print(f"lamb sign: {e}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(f"{args.output}: signed by {job['profileVersionArn']} (job {job['jobArn']})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lamb", description="A self-hosted AWS Lambda.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the platform in the foreground")
    serve.add_argument("--host", default=None, help=f"address to listen on (default {DEFAULT_HOST}, env LAMB_HOST)")
    serve.add_argument("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT}, env LAMB_PORT; 0 picks one)")
    serve.add_argument("--https-port", type=int, default=None,
                       help="also serve TLS on this port (env LAMB_HTTPS_PORT; 0 picks one): custom domains' "
                            "certificates by SNI and their mutual TLS")
    serve.add_argument("--data-dir", default=None, help=f"state folder (default {DEFAULT_DATA_DIR}, env LAMB_DATA_DIR)")
    serve.add_argument("--region", default=None, help="region used in ARNs (default us-east-1, env LAMB_REGION)")
    serve.add_argument("--account-id", default=None, help="account id used in ARNs (default 000000000000)")
    serve.add_argument("--keep-alive", type=float, default=None, help="seconds an idle environment stays warm (default 900)")
    serve.add_argument("--sandbox", choices=["linux", "process"], default=None,
                       help="isolation backend (default: linux where the host allows it, else process; env LAMB_SANDBOX)")
    serve.add_argument("--network", choices=["isolated", "none", "host"], default=None,
                       help="environments' network with the linux sandbox: a namespace each with egress through NAT "
                            "(isolated, the default where the host can), without egress (none), or the host's (host); "
                            "env LAMB_NETWORK")
    serve.add_argument("--network-host-ports", default=None, metavar="PORTS",
                       help="ports of services on the host's loopback (e.g. 4566,5000-5100) that isolated "
                            "environments reach at host.lamb.internal; env LAMB_NETWORK_HOST_PORTS")
    serve.add_argument("--network-dns", default=None, metavar="ADDR[:PORT],...",
                       help="DNS resolvers of isolated environments (up to 3; default: the IPv4 nameservers of the "
                            "host's /etc/resolv.conf, wherever they listen, its loopback included); env LAMB_NETWORK_DNS")
    serve.add_argument("--tmp", choices=["tmpfs", "disk"], default=None,
                       help="environments' /tmp with the linux sandbox: an ext4 filesystem of EphemeralStorage MB on "
                            "disk, not charged to memory (disk, the default where the host has loop devices) or a "
                            "tmpfs counted toward MemorySize (tmpfs); env LAMB_TMP")
    serve.add_argument("--env-memory-mb", type=int, default=None,
                       help="MemorySize MB all execution environments may hold together; beyond it idle ones are "
                            "evicted, then starts throttled (default 3 x host RAM; 0: no budget; env LAMB_ENV_MEMORY_MB)")
    serve.add_argument("--auth", choices=["on", "off"], default=None,
                       help="check SigV4 and identity policies of API callers (default on, env LAMB_AUTH); "
                            "off accepts any credentials, loopback only unless --auth-off-anywhere")
    serve.add_argument("--auth-off-anywhere", action="store_true",
                       help="allow --auth off on an address other than loopback (you mean it)")
    serve.add_argument("--debug", action="append", metavar="NAME[:PORT]",
                       help="run function NAME under a debugger on 127.0.0.1:PORT (debugpy for Python, --inspect for "
                            "Node.js; default ports from 5678): one environment at a time, no timeout; repeatable; "
                            "env LAMB_DEBUG=a:5678,b")
    serve.add_argument("--log-level", default="WARNING")
    serve.set_defaults(func=_serve)
    rt = sub.add_parser("runtimes", help="manage runtimes").add_subparsers(dest="action", required=True)
    inst = rt.add_parser("install", help="build runtime roots (awslambdaric + boto3, aws-lambda-ric) for host interpreters")
    inst.add_argument("names", nargs="*")
    inst.set_defaults(func=_runtimes_install)
    ver = rt.add_parser("versions", help="print the runtime version (name, ARN) Lamb runs for each runtime")
    ver.add_argument("--region", default=None, help="region of the ARNs (default us-east-1, env LAMB_REGION)")
    ver.set_defaults(func=_runtimes_versions)
    from .deploy.command import add_arguments

    add_arguments(sub)
    for name, fn, text in (("credentials", _credentials, "print the account's root key (the profile file)"),
                           ("env", _env, 'print export lines: eval "$(lamb env)"')):
        p = sub.add_parser(name, help=text)
        p.add_argument("--data-dir", default=None)
        p.add_argument("--profile", default="default")
        p.set_defaults(func=fn)
    acc = sub.add_parser("accounts", help="manage accounts").add_subparsers(dest="action", required=True)
    create = acc.add_parser("create", help="create an account with its own id and root key")
    create.add_argument("--data-dir", default=None)
    create.set_defaults(func=_accounts_create)
    keys = sub.add_parser("keys", help="the master key that seals secrets at rest").add_subparsers(
        dest="action", required=True)
    rot = keys.add_parser("rotate", help="rewrap every sealed secret under a new master key (run with Lamb stopped)")
    rot.add_argument("--data-dir", default=None)
    rot.set_defaults(func=_keys_rotate)
    usage = sub.add_parser("usage", help="metered usage per function: requests, billed duration, GB-seconds, cost")
    usage.add_argument("--endpoint", default=None,
                       help=f"the Lamb server (default http://LAMB_HOST:LAMB_PORT, i.e. {DEFAULT_HOST}:{DEFAULT_PORT})")
    usage.add_argument("--month", default=None, help="YYYY-MM (default: every month recorded)")
    usage.add_argument("--function", default=None, help="one function's usage")
    usage.add_argument("--json", action="store_true", help="the whole report as JSON")
    usage.set_defaults(func=_usage)
    sign = sub.add_parser("sign", help="sign a zip with a signing profile of the data folder (offline; code signing)")
    sign.add_argument("--profile-name", required=True, help="the signing profile (aws signer put-signing-profile)")
    sign.add_argument("--data-dir", default=None)
    sign.add_argument("zip", help="the deployment package to sign")
    sign.add_argument("output", help="where to write the signed zip")
    sign.set_defaults(func=_sign)
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(args, "log_level", "WARNING"), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
