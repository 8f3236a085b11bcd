"""Applying a template to a stack: change set, per-resource progress, record, rollback.

The stack record (stack_client.py, kept by the server) is written before the first
change and after every resource, so at any moment it lists exactly what exists: a
deploy killed halfway leaves a ``*_IN_PROGRESS`` record naming every resource it
made. A resource that fails stops the deploy and rolls back what this deploy did, in
reverse (created → deleted, modified → its previous properties re-applied, replaced →
the new one deleted), ending in ``UPDATE_ROLLBACK_COMPLETE``; if a rollback step
fails, the stack ends in ``UPDATE_ROLLBACK_FAILED`` with the record still exact.
Deletions (removed and replaced resources) run last, as CloudFormation's cleanup does;
``DeletionPolicy: Retain`` keeps the resource (SAM's versions and layer versions).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import api_urls
from . import plan as P
from . import template as T
from . import include, traffic, translate
from .intrinsics import Context, TemplateError, Unresolved
from .package import Packager
from .registry import Applied, Handler, NotApplied, Registry
from .stack_client import StackClient


class DeployError(Exception):
    pass


@dataclass
class ApplyEnv:
    """The ``registry.Env`` handlers get: boto3 clients with the standard configuration."""

    stack: str
    region: str
    account: str
    endpoint: str
    packager: Packager
    out: Callable[[str], None] = print
    time_scale: float = 1.0
    allow_aws: bool = False
    steps: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    rolling_back: bool = False
    _clients: dict[str, Any] = field(default_factory=dict)

    def _session(self):
        import boto3

        session = boto3.Session(region_name=self.region)
        if session.get_credentials() is None:  # Lamb needs none; placeholders let boto3 sign
            session = boto3.Session(region_name=self.region, aws_access_key_id="lamb", aws_secret_access_key="lamb")
        return session

    def lambda_client(self) -> Any:
        return self.lamb_client("lambda")

    def lamb_client(self, service: str) -> Any:
        """A client of one of the models Lamb serves on its port (lambda, events, scheduler)."""
        key = f"lamb:{service}"
        if key not in self._clients:
            from botocore.config import Config

            self._clients[key] = self._session().client(
                service, endpoint_url=self.endpoint, config=Config(retries={"mode": "standard"}))
        return self._clients[key]

    def service_client(self, service: str) -> Any | None:
        """A client for ``service`` where the user configured an endpoint for it (AWS_ENDPOINT_URL[_SVC],
        the config file), or AWS itself with --use-aws; None otherwise (and never Lamb's own port)."""
        if service not in self._clients:
            client = self._session().client(service)
            url = client.meta.endpoint_url.rstrip("/")
            usable = url != self.endpoint.rstrip("/") and (self.allow_aws or "amazonaws.com" not in url)
            self._clients[service] = client if usable else None
        return self._clients[service]

    def code(self, location: dict) -> bytes:
        bucket, key = location["S3Bucket"], location["S3Key"]
        data = self.packager.local(bucket, key)
        if data is not None:
            return data
        s3 = self.service_client("s3")
        if s3 is None:
            raise DeployError(f"s3://{bucket}/{key}: no S3 endpoint configured (AWS_ENDPOINT_URL_S3, or --use-aws)")
        extra = {"VersionId": location["S3ObjectVersion"]} if location.get("S3ObjectVersion") else {}
        return s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()

    def progress(self, status: str, type_: str, logical: str, reason: str = "") -> None:
        self.out(f"{status:<28}{type_:<38}{logical:<34}{reason}".rstrip())

    def traffic_steps(self, logical: str) -> list[tuple[float, float]]:
        return [] if self.rolling_back else self.steps.get(logical, [])

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.time_scale)


def default_registry() -> Registry:
    from . import apigateway_domains, apigateway_resources, apigateway_settings, aws_resources, lambda_resources
    from . import apigateway_vpc_links
    from . import trigger_resources
    from . import apigateway_resources, apigateway_settings, aws_resources, lambda_resources, trigger_resources
    from . import apigateway_usage

    registry = Registry()
    lambda_resources.register(registry)
    trigger_resources.register(registry)
    apigateway_resources.register(registry)
    apigateway_settings.register(registry)  # models, validators, gateway responses, the account's role
    apigateway_domains.register(registry)  # custom domain names, their mappings and Route 53 records
    apigateway_vpc_links.register(registry)  # VPC links (v1 and v2)
    apigateway_usage.register(registry)  # API keys, usage plans and their keys
    aws_resources.register(registry)
    return registry


# What SAM generates for AWS and Lamb does without (nothing today: the functions' execution roles
# SAM generates are created, in Lamb's own IAM unless AWS_ENDPOINT_URL_IAM names another, because
# CreateFunction checks that the role exists and trusts Lambda).
SAM_GENERATED_SKIPPED: dict[str, str] = {}


def _skip_reason(env: ApplyEnv, handler: Handler | NotApplied, generated: bool = False, type_: str = "",
                 props: dict | None = None) -> str | None:
    if isinstance(handler, NotApplied):
        return handler.reason
    unsupported = getattr(handler, "unsupported", None)  # a resource whose properties Lamb refuses
    if unsupported is not None and props is not None and (reason := unsupported(props)):
        return reason
    if generated and type_ in SAM_GENERATED_SKIPPED:
        return SAM_GENERATED_SKIPPED[type_]
    service = getattr(handler, "service", None)
    if service and not getattr(handler, "served_by_lamb", False) and env.service_client(service) is None:
        note = getattr(handler, "skip_note", "")
        variable = getattr(handler, "endpoint_variable", f"AWS_ENDPOINT_URL_{service.upper()}")
        return f"skipped: no {service} endpoint configured ({variable}){note}"
    return None


class Deployer:
    def __init__(self, env: ApplyEnv, stacks: StackClient, registry: Registry | None = None):
        self.env = env
        self.stacks = stacks
        self.registry = registry or default_registry()
        self.generated: set[str] = set()  # logical ids SAM added to the template (prepare)

    # ------------------------------------------------------------------ records
    def _save(self, record: dict) -> None:
        record["Revision"] = self.stacks.put(self.env.stack, record, record.get("Revision", 0))

    def _exports(self) -> dict[str, Any]:
        out = {}
        for other in self.stacks.list():
            if other["StackName"] != self.env.stack:
                out.update(other.get("Exports", {}))
        return out

    def _context(self, cfn: dict, params: dict, state: dict, preview: bool) -> Context:
        env = self.env
        exports: dict[str, Any] | None = None

        def attrs(lid: str) -> dict:
            entry = state.get(lid)
            if entry is not None:
                return entry["Attributes"]
            if lid in cfn["Resources"]:
                if preview:
                    return {}
                raise Unresolved(lid)
            raise TemplateError(f"Unresolved resource dependency {lid}")

        def ref(lid: str) -> Any:
            return attrs(lid).get("Ref", f"{{pending:{lid}}}")

        def get_att(lid: str, name: str) -> Any:
            a = attrs(lid)
            if name in a:
                return a[name]
            if preview or lid not in state:
                return f"{{pending:{lid}.{name}}}"
            if state[lid].get("Status") == "SKIPPED":
                return f"{lid}.{name}-not-applied"
            raise TemplateError(f"Resource {lid} ({state[lid]['Type']}) has no attribute {name} in lamb deploy")

        def import_value(name: str) -> Any:
            nonlocal exports
            exports = self._exports() if exports is None else exports
            if name not in exports:
                raise TemplateError(f"No export named {name} found")
            return exports[name]

        pseudo = {"AWS::Region": env.region, "AWS::AccountId": env.account, "AWS::StackName": env.stack,
                  "AWS::StackId": f"arn:aws:cloudformation:{env.region}:{env.account}:stack/{env.stack}/lamb",
                  "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NotificationARNs": []}
        return Context(pseudo, params, cfn.get("Mappings", {}), cfn.get("Conditions", {}), ref, get_att, import_value)

    # ------------------------------------------------------------------ plan
    def prepare(self, path: Path, overrides: dict[str, str]) -> tuple[dict, dict, list[Path]]:
        included: list[Path] = []  # local AWS::Include snippets, watched with the code folders
        raw = include.expand_template(T.load(path), path.parent, lambda bucket, key: self.env.code(
            {"S3Bucket": bucket, "S3Key": key}), included)
        packaged = self.env.packager.package(raw, path.parent)
        cfn = translate.to_cloudformation(packaged.template, overrides, self.env.region)
        self.generated = set(cfn["Resources"]) - set(raw["Resources"]) if T.is_sam(raw) else set()
        params = P.parameters(cfn.get("Parameters", {}) or {}, overrides)
        return cfn, params, packaged.folders + included

    def changes(self, cfn: dict, params: dict, record: dict | None) -> tuple[list[P.Change], list[str], dict]:
        old = (record or {}).get("Resources", {})
        ctx = self._context(cfn, params, old, preview=True)
        resources = {lid: r for lid, r in cfn["Resources"].items()
                     if r.get("Condition") is None or ctx.condition(r["Condition"])}
        cfn = dict(cfn, Resources=resources)
        ctx = self._context(cfn, params, old, preview=True)
        order = P.order(resources)
        out = []
        for lid in order:
            res = resources[lid]
            handler = self.registry.lookup(res["Type"])
            props = ctx.resolve(res.get("Properties", {}))
            skip = _skip_reason(self.env, handler, lid in self.generated, res["Type"], props)
            before = old.get(lid)
            if skip:
                out.append(P.Change(P.SKIP, lid, res["Type"], skip))
            elif before is None or before["Type"] != res["Type"] or before.get("Status") == "SKIPPED":
                out.append(P.Change(P.ADD, lid, res["Type"]))
            elif before["Properties"] == props:
                out.append(P.Change(P.NONE, lid, res["Type"]))
            elif P.needs_replacement(handler.replace_on, before["Properties"], props):  # type: ignore[union-attr]
                out.append(P.Change(P.REPLACE, lid, res["Type"]))
            elif refusal := getattr(handler, "update_refusal", lambda old, new: None)(before["Properties"], props):
                out.append(P.Change(P.REFUSE, lid, res["Type"], refusal))
            else:
                out.append(P.Change(P.MODIFY, lid, res["Type"]))
        for lid, entry in old.items():
            if lid not in resources or entry["Type"] != resources[lid]["Type"]:
                kept = " (retained: DeletionPolicy Retain)" if entry.get("DeletionPolicy") == "Retain" else ""
                out.append(P.Change(P.REMOVE, lid, entry["Type"], kept.strip(" ()") or "N/A"))
        return out, order, cfn

    # ------------------------------------------------------------------ apply
    def deploy(self, path: Path, overrides: dict[str, str], *, dry_run: bool = False, force: bool = False) -> int:
        env = self.env
        cfn, params, _ = self.prepare(path, overrides)
        record = self.stacks.get(env.stack)
        if record and record["Status"].endswith("_IN_PROGRESS") and not (force or dry_run):
            raise DeployError(f"stack {env.stack} is {record['Status']} (another deploy is running, or one died: "
                              f"--force continues from its record)")
        changes, order, cfn = self.changes(cfn, params, record)
        env.out(f"Changeset for stack {env.stack}:\n" + P.render(changes))
        if dry_run:
            return 0
        refused = [c.logical for c in changes if c.action == P.REFUSE]
        if refused:
            raise DeployError(f"changes to {', '.join(refused)} cannot be applied in place (see the change set); "
                              f"nothing was changed")
        ctx = self._context(cfn, params, {}, preview=False)
        env.steps = {}
        for lid, name in traffic.preferences(cfn["Resources"], ctx.resolve).items():
            s = traffic.steps(name)
            if s is None:
                env.out(f"note: {lid}: deployment configuration {name} is not predefined; shifting all at once")
            env.steps[lid] = s or []
        first = record is None or not record.get("Resources")
        record = record or {"Resources": {}, "Revision": 0}
        record.update(Status="CREATE_IN_PROGRESS" if first else "UPDATE_IN_PROGRESS", Parameters=params)
        record.setdefault("Replaced", [])
        self._save(record)
        done: list[tuple[str, str, dict | None]] = []  # (action, logical, entry before)
        try:
            self._apply(cfn, params, order, record, done)
            outputs, exports = self._outputs(cfn, self._context(cfn, params, record["Resources"], preview=False),
                                             api_urls.stack_apis(record["Resources"]),
                                             api_urls.stack_domains(record["Resources"]))
        except Exception as e:
            reason = str(e) or type(e).__name__
            env.out(f"Error: deploy failed: {reason}")
            return self._rollback(record, done, first)
        self._cleanup(record, [c for c in changes if c.action == P.REMOVE])
        record.update(Status="CREATE_COMPLETE" if first else "UPDATE_COMPLETE", Outputs=outputs, Exports=exports)
        self._save(record)
        if outputs:
            env.out("Outputs:")
            for key, o in outputs.items():
                env.out(f"  {key:<24} {o['Value']}")
        env.out(f"Successfully created/updated stack - {env.stack}")
        return 0

    def _apply(self, cfn: dict, params: dict, order: list[str], record: dict, done: list) -> None:
        env = self.env
        state = record["Resources"]
        ctx = self._context(cfn, params, state, preview=False)
        for i, lid in enumerate(order):
            res = cfn["Resources"][lid]
            type_ = res["Type"]
            handler = self.registry.lookup(type_)
            props = ctx.resolve(res.get("Properties", {}))
            skip = _skip_reason(env, handler, lid in self.generated, type_, props)
            before = state.get(lid)
            if before is not None and (before["Type"] != type_ or before.get("Status") == "SKIPPED"):
                record["Replaced"].append(dict(before, LogicalId=lid))
                before = None
            entry = {"Type": type_, "Properties": props, "Order": i, "DeletionPolicy": res.get("DeletionPolicy")}
            if skip:
                synth = getattr(handler, "synthesize", None)
                applied = synth(env, lid, props) if synth else Applied(f"{lid}-not-applied", {"Ref": f"{lid}-not-applied"})
                state[lid] = dict(entry, PhysicalId=applied.physical_id, Attributes=applied.attributes, Status="SKIPPED",
                                  Reason=skip)
                env.progress("SKIPPED", type_, lid, skip)
                continue
            assert not isinstance(handler, NotApplied)
            if before is None:
                env.progress("CREATE_IN_PROGRESS", type_, lid)
                applied = handler.create(env, lid, props)
                done.append(("create", lid, None))
                status = "CREATE_COMPLETE"
            elif before["Properties"] == props:
                continue
            elif P.needs_replacement(handler.replace_on, before["Properties"], props):
                env.progress("UPDATE_IN_PROGRESS", type_, lid, "Requested update requires the creation of a new physical resource")
                applied = handler.create(env, lid, props)
                record["Replaced"].append(dict(before, LogicalId=lid))
                done.append(("replace", lid, before))
                status = "UPDATE_COMPLETE"
            else:
                env.progress("UPDATE_IN_PROGRESS", type_, lid)
                applied = handler.update(env, lid, before["PhysicalId"], before["Properties"], props, before["Attributes"])
                done.append(("update", lid, before))
                status = "UPDATE_COMPLETE"
            state[lid] = dict(entry, PhysicalId=applied.physical_id, Attributes=applied.attributes, Status=status)
            self._save(record)
            env.progress(status, type_, lid, applied.note)

    def _delete_entry(self, lid: str, entry: dict) -> None:
        env = self.env
        if entry.get("Status") == "SKIPPED":
            return
        if entry.get("DeletionPolicy") == "Retain":
            env.progress("DELETE_SKIPPED", entry["Type"], lid, "DeletionPolicy Retain")
            return
        handler = self.registry.lookup(entry["Type"])
        if isinstance(handler, NotApplied):
            return
        env.progress("DELETE_IN_PROGRESS", entry["Type"], lid)
        try:
            handler.delete(env, entry["PhysicalId"], entry["Properties"])
        except Exception as e:
            if "NotFound" not in type(e).__name__ and "NotFound" not in str(e) and "NonExistent" not in str(e):
                raise
        env.progress("DELETE_COMPLETE", entry["Type"], lid)

    def _cleanup(self, record: dict, removals: list[P.Change]) -> None:
        state = record["Resources"]
        pending = [(e["LogicalId"], e) for e in record["Replaced"]]
        pending += sorted(((c.logical, state[c.logical]) for c in removals if c.logical in state),
                          key=lambda p: -p[1].get("Order", 0))
        record["Status"] = record["Status"].replace("_IN_PROGRESS", "_COMPLETE_CLEANUP_IN_PROGRESS")
        for lid, entry in pending:
            try:
                self._delete_entry(lid, entry)
            except Exception as e:
                self.env.progress("DELETE_FAILED", entry["Type"], lid, str(e))
                continue  # kept in the record: the next deploy or --delete tries again
            if entry in record["Replaced"]:
                record["Replaced"].remove(entry)
            elif state.get(lid) is entry:
                del state[lid]
            self._save(record)

    def _rollback(self, record: dict, done: list, first: bool) -> int:
        env = self.env
        env.rolling_back = True
        state = record["Resources"]
        record["Status"] = "ROLLBACK_IN_PROGRESS" if first else "UPDATE_ROLLBACK_IN_PROGRESS"
        self._save(record)
        try:
            for action, lid, before in reversed(done):
                entry = state[lid]
                handler = self.registry.lookup(entry["Type"])
                assert not isinstance(handler, NotApplied)
                if action == "update":
                    env.progress("UPDATE_IN_PROGRESS", entry["Type"], lid, "rollback")
                    handler.update(env, lid, entry["PhysicalId"], entry["Properties"], before["Properties"],
                                   entry["Attributes"])
                    state[lid] = before
                    env.progress("UPDATE_COMPLETE", entry["Type"], lid, "rollback")
                else:
                    self._delete_entry(lid, dict(entry, DeletionPolicy=None))
                    if action == "replace":
                        state[lid] = before
                        record["Replaced"] = [r for r in record["Replaced"] if r.get("LogicalId") != lid]
                    else:
                        del state[lid]
                self._save(record)
        except Exception as e:
            record["Status"] = "ROLLBACK_FAILED" if first else "UPDATE_ROLLBACK_FAILED"
            self._save(record)
            env.out(f"Error: rollback failed: {e}; stack {env.stack} is {record['Status']}, its record lists what exists")
            return 1
        record["Status"] = "ROLLBACK_COMPLETE" if first else "UPDATE_ROLLBACK_COMPLETE"
        self._save(record)
        env.out(f"Stack {env.stack} rolled back: {record['Status']}")
        return 1

    def _outputs(self, cfn: dict, ctx: Context, apis: dict, domains: frozenset[str] = frozenset()) -> tuple[dict, dict]:
        outputs, exports = {}, {}
        for key, spec in (cfn.get("Outputs") or {}).items():
            if spec.get("Condition") and not ctx.condition(spec["Condition"]):
                continue
            value = api_urls.localize(ctx.resolve(spec["Value"]), self.env.endpoint, apis, domains)
            outputs[key] = {"Value": value, "Description": spec.get("Description", "")}
            if spec.get("Export"):
                name = ctx.resolve(spec["Export"]["Name"])
                outputs[key]["ExportName"] = name
                exports[name] = value
        taken = self._exports()
        clash = set(exports) & set(taken)
        if clash:
            raise DeployError(f"Export names {sorted(clash)} are already exported by another stack")
        return outputs, exports

    # ------------------------------------------------------------------ delete
    def delete(self) -> int:
        env = self.env
        record = self.stacks.get(env.stack)
        if record is None:
            raise DeployError(f"Stack with id {env.stack} does not exist")
        record["Status"] = "DELETE_IN_PROGRESS"
        self._save(record)
        state = record["Resources"]
        pending = [(e["LogicalId"], e) for e in record.get("Replaced", [])]
        pending += sorted(state.items(), key=lambda p: -p[1].get("Order", 0))
        for lid, entry in pending:
            try:
                self._delete_entry(lid, entry)
            except Exception as e:
                env.progress("DELETE_FAILED", entry["Type"], lid, str(e))
                record["Status"] = "DELETE_FAILED"
                self._save(record)
                return 1
            if lid in state and state[lid] is entry:
                del state[lid]
            else:
                record["Replaced"].remove(entry)
            self._save(record)
        self.stacks.delete(env.stack, record["Revision"])
        env.out(f"Deleted stack {env.stack}")
        return 0
