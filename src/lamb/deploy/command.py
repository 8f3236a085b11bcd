"""``lamb deploy`` and ``lamb stacks``: argument handling, the endpoint, --watch.

The endpoint is found as the AWS CLI finds it: ``--endpoint-url``, else
``AWS_ENDPOINT_URL_LAMBDA``, else ``AWS_ENDPOINT_URL``
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lamb" / "deploy"


def endpoint(explicit: str | None) -> str:
    url = explicit or os.environ.get("AWS_ENDPOINT_URL_LAMBDA") or os.environ.get("AWS_ENDPOINT_URL")
    if not url:
        raise SystemExit("lamb deploy: no Lamb endpoint: pass --endpoint-url or set AWS_ENDPOINT_URL")
    return url


def add_arguments(sub: argparse._SubParsersAction) -> None:
    dep = sub.add_parser("deploy", help="deploy a SAM or CloudFormation template to a Lamb server")
    dep.add_argument("template", nargs="?", help="template file (YAML or JSON; .aws-sam/build/template.yaml works)")
    dep.add_argument("--stack-name", help="stack name (default: the template's folder name)")
    dep.add_argument("--endpoint-url", help="Lamb's URL (default AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL)")
    dep.add_argument("--parameter-overrides", nargs="+", default=[], metavar="KEY=VALUE")
    dep.add_argument("--dry-run", action="store_true", help="show the change set, apply nothing")
    dep.add_argument("--delete", metavar="STACK", help="delete STACK and the resources it made")
    dep.add_argument("--watch", action="store_true", help="re-deploy when a local code folder changes")
    dep.add_argument("--hot-reload", action="store_true",
                     help="functions use their local code folders in place (the server needs LAMB_HOT_RELOAD_ROOTS): "
                          "an edit runs at the next invocation, with no deploy")
    dep.add_argument("--force", action="store_true", help="continue a stack whose last deploy died (*_IN_PROGRESS)")
    dep.add_argument("--use-aws", action="store_true",
                     help="create other services' resources on AWS when no endpoint is configured for them")
    dep.add_argument("--cache-dir", default=os.environ.get("LAMB_DEPLOY_CACHE"),
                     help=f"where packaged code is kept (default {DEFAULT_CACHE}, env LAMB_DEPLOY_CACHE)")
    dep.set_defaults(func=run_deploy)
    stacks = sub.add_parser("stacks", help="list the stacks deployed to a Lamb server")
    stacks.add_argument("--endpoint-url")
    stacks.set_defaults(func=run_stacks)


def _deployer(args: argparse.Namespace, stack: str):
    from .engine import ApplyEnv, Deployer
    from .package import Packager
    from .stack_client import StackClient

    url = endpoint(args.endpoint_url)
    client = StackClient(url)
    region, account = client.identity()
    env = ApplyEnv(stack=stack, region=region, account=account, endpoint=url,
                   packager=Packager(Path(args.cache_dir) if args.cache_dir else DEFAULT_CACHE,
                                     hot_reload=getattr(args, "hot_reload", False)),
                   out=lambda line: print(line, flush=True),
                   time_scale=float(os.environ.get("LAMB_DEPLOY_TIME_SCALE", "1")), allow_aws=args.use_aws)
    return Deployer(env, client)


def _fingerprint(folders: list[Path], template: Path) -> tuple:
    out: list[tuple] = [(str(template), template.stat().st_mtime_ns)]
    for folder in folders:
        if folder.is_file():  # an API definition file
            try:
                st = folder.stat()
            except OSError:
                continue
            out.append((str(folder), "", st.st_mtime_ns, st.st_size))
            continue
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                try:
                    st = os.stat(os.path.join(root, name))
                except OSError:
                    continue
                out.append((root, name, st.st_mtime_ns, st.st_size))
    return tuple(out)


def run_deploy(args: argparse.Namespace) -> int:
    from .engine import DeployError
    from .intrinsics import TemplateError as IntrinsicError
    from .package import PackageError
    from .plan import parse_overrides
    from .stack_client import Conflict
    from .template import TemplateError

    errors = (DeployError, IntrinsicError, PackageError, TemplateError, Conflict)
    try:
        if args.delete:
            return _deployer(args, args.delete).delete()
        if not args.template:
            raise SystemExit("lamb deploy: a TEMPLATE (or --delete STACK) is needed")
        path = Path(args.template).resolve()
        stack = args.stack_name or _default_stack(path)
        deployer = _deployer(args, stack)
        overrides = parse_overrides(args.parameter_overrides)
        if not args.watch:
            return deployer.deploy(path, overrides, dry_run=args.dry_run, force=args.force)
        # --watch: the fingerprint is taken before each deploy, so an edit made while it runs is not lost
        folders = deployer.prepare(path, overrides)[2]
        seen = _fingerprint(folders, path)
        deployer.deploy(path, overrides, dry_run=args.dry_run, force=args.force)
        print(f"Watching {len(folders)} code folder(s)/definition file(s) and the template for changes (Ctrl-C stops)", flush=True)
        while True:
            time.sleep(float(os.environ.get("LAMB_DEPLOY_WATCH_INTERVAL", "0.3")))
            now = _fingerprint(folders, path)
            if now == seen:
                continue
            seen = now
            print("Change detected: deploying", flush=True)
            try:
                deployer.deploy(path, overrides, dry_run=args.dry_run)
                folders = deployer.prepare(path, overrides)[2]
            except errors as e:
                print(f"Error: {e}", file=sys.stderr, flush=True)
    except errors as e:
        print(f"Error: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0


def _default_stack(path: Path) -> str:
    """The template's folder (the project's folder for sam build's .aws-sam/build/template.yaml)."""
    folder = path.parent
    if folder.name == "build" and folder.parent.name == ".aws-sam":
        folder = folder.parent.parent
    name = "".join(c if c.isalnum() else "-" for c in folder.name).strip("-")
    return name if name[:1].isalpha() else f"stack-{name}"


def run_stacks(args: argparse.Namespace) -> int:
    from .stack_client import StackClient

    rows = [("StackName", "Status", "Resources", "LastUpdated")]
    for s in StackClient(endpoint(args.endpoint_url)).list():
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s.get("LastUpdated", 0)))
        rows.append((s["StackName"], s.get("Status", "?"), str(len(s.get("Resources", {}))), when))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(f"{c:<{w}}" for c, w in zip(r, widths)).rstrip())
    return 0
