"""API Gateway VPC links: REST APIs' (v1, ``targetArns``: one Network Load Balancer) and HTTP APIs'
(v2, ``SubnetIds``/``SecurityGroupIds``), one record per link in ``apigateway_vpc_links`` (written
through to SQLite like the rest of API Gateway's store).

https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-private-integration.html (v1),
…/http-api-vpc-links.html (v2), https://docs.aws.amazon.com/apigateway/latest/api/API_VpcLink.html,
https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html. As on AWS the two kinds
are separate: v1's operations see v1 links, v2's see v2 links.

A link is made ``PENDING``; right after, its targets are looked up through boto3's standard
configuration (``AWS_ENDPOINT_URL_ELASTICLOADBALANCING``/``_EC2``, ``AWS_ENDPOINT_URL``, a profile;
AWS's own endpoints otherwise): v1 asks elbv2's DescribeLoadBalancers for the load balancer, v2 asks
EC2's DescribeSubnets and DescribeSecurityGroups. Found: ``AVAILABLE``; not found (or not a Network Load
Balancer for v1): ``FAILED`` with a status message saying which. Without credentials or a reachable
endpoint nothing can be asked and the link becomes ``AVAILABLE`` unchecked (the log says why), as
custom domain names' certificates are taken (apis/certificates.py). Lamb never joins a VPC: serving a
private integration resolves a target's address and port (apis/private_targets.py) and connects to it
from the host.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, Callable

from ..limits import Limits
from ..protocol.errors import AwsError
from .store import new_id

if TYPE_CHECKING:
    from .store import HttpApiStore

log = logging.getLogger("lamb.apis.vpc_links")

V1, V2 = "v1", "v2"
READY_V1 = "Your vpc link is ready for use"
READY_V2 = "VPC link is ready to route traffic"
_LB_MISSING = ("LoadBalancerNotFound", "ValidationError")
_EC2_MISSING = ("InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed", "InvalidGroup.NotFound",
                "InvalidGroupId.Malformed", "InvalidGroupId.NotFound")


def bad(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)


class Unchecked(Exception):
    """The service could not be asked (no credentials, unreachable): the link is taken as it is."""


class Network:
    """What a link's targets are checked against: elbv2 and EC2 through ``clients(service)`` (blocking
    calls, made off the event loop). Each check answers None (found) or why the link failed; raises
    ``Unchecked`` when the service could not be asked."""

    def __init__(self, clients: Callable[[str], Any]) -> None:
        self.clients = clients

    def _call(self, service: str, operation: str, missing: tuple[str, ...], **kw) -> dict | str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.clients(service), operation)(**kw)
        except ClientError as e:
            err = e.response.get("Error", {})
            if err.get("Code") in missing:
                return err.get("Message") or err.get("Code")
            raise Unchecked(f"{service} {operation}: {err.get('Code')}") from None
        except BotoCoreError as e:
            raise Unchecked(f"{service} {operation}: {e}") from None

    def load_balancer(self, arn: str) -> str | None:
        found = self._call("elbv2", "describe_load_balancers", _LB_MISSING, LoadBalancerArns=[arn])
        if isinstance(found, str):
            return f"Failed to find the load balancer {arn}: {found}"
        lbs = found.get("LoadBalancers") or []
        if not lbs:
            return f"Failed to find the load balancer {arn}"
        if lbs[0].get("Type") != "network":
            return f"The load balancer {arn} is not a Network Load Balancer"
        return None

    def subnets_and_groups(self, subnets: list[str], groups: list[str]) -> str | None:
        found = self._call("ec2", "describe_subnets", _EC2_MISSING, SubnetIds=list(subnets))
        if isinstance(found, str):
            return f"Failed to find the subnets {', '.join(subnets)}: {found}"
        if groups:
            found = self._call("ec2", "describe_security_groups", _EC2_MISSING, GroupIds=list(groups))
            if isinstance(found, str):
                return f"Failed to find the security groups {', '.join(groups)}: {found}"
        return None


class VpcLinks:
    """``links[id]`` = ``{"kind": "v1"|"v2", "link": <the link as its API shows it>}``."""

    def __init__(self, store: "HttpApiStore", region: str, account: str, limits: Limits, network: Network) -> None:
        self.store = store
        self.region = region
        self.account = account
        self.limits = limits
        self.network = network
        self._settling: set[asyncio.Task] = set()
        self._inflight: set[str] = set()  # links being settled (a PENDING one found otherwise, after a
        # restart, is settled when next read)

    # ------------------------------------------------------------ records
    def ids(self, kind: str) -> list[str]:
        return [i for i in self.store.ids() if self.store.get(i)["kind"] == kind]

    def get(self, kind: str, ident: str) -> dict | None:
        rec = self.store.get(ident)
        if rec is None or rec["kind"] != kind:
            return None
        link = rec["link"]
        if (link.get("status") or link.get("VpcLinkStatus")) == "PENDING" and ident not in self._inflight:
            self._settle(kind, ident)
        return link

    def _put(self, kind: str, link: dict) -> dict:
        ident = link["id"] if kind == V1 else link["VpcLinkId"]
        self.store.put(ident, {"kind": kind, "link": link})
        return link

    def _fresh_id(self) -> str:
        while True:
            ident = new_id(6)
            if self.store.get(ident) is None:
                return ident

    def create_v1(self, name: str, target_arns: list[str], description: str | None, tags: dict | None) -> dict:
        if not name:
            raise bad("Name cannot be blank")
        if len(target_arns or []) != 1:
            raise bad("Exactly one NLB ARN must be specified in targetArns")
        if len(self.ids(V1)) >= self.limits.rest_api_vpc_links_max:
            raise AwsError("LimitExceededException",
                           f"Maximum number of VPC links ({self.limits.rest_api_vpc_links_max}) reached", 429)
        _check_tags(tags, self.limits)
        link = {"id": self._fresh_id(), "name": name, "targetArns": list(target_arns), "status": "PENDING",
                "statusMessage": "VPC link is provisioning ENIs", "tags": dict(tags or {})}
        if description is not None:
            link["description"] = description
        self._put(V1, link)
        self._settle(V1, link["id"])
        return link

    def create_v2(self, name: str, subnets: list[str], groups: list[str] | None, tags: dict | None) -> dict:
        if not name:
            raise bad("Name cannot be blank")
        if not subnets:
            raise bad("SubnetIds must contain at least one subnet")
        if len(self.ids(V2)) >= self.limits.http_api_vpc_links_max:
            raise AwsError("LimitExceededException",
                           f"Maximum number of VPC links ({self.limits.http_api_vpc_links_max}) reached", 429)
        _check_tags(tags, self.limits)
        link = {"VpcLinkId": self._fresh_id(), "Name": name, "SubnetIds": list(subnets),
                "SecurityGroupIds": list(groups or []), "Tags": dict(tags or {}), "CreatedDate": time.time(),
                "VpcLinkStatus": "PENDING", "VpcLinkStatusMessage": "VPC link is provisioning ENIs",
                "VpcLinkVersion": "V2"}
        self._put(V2, link)
        self._settle(V2, link["VpcLinkId"])
        return link

    def update(self, kind: str, link: dict) -> dict:
        return self._put(kind, link)

    def delete(self, kind: str, ident: str) -> None:
        if self.get(kind, ident) is not None:
            self.store.delete(ident)

    def available(self, kind: str, ident: str) -> bool:
        link = self.get(kind, ident)
        if link is None:
            return False
        return (link.get("status") if kind == V1 else link.get("VpcLinkStatus")) == "AVAILABLE"

    def target_arn(self, ident: str) -> str | None:
        """A v1 link's Network Load Balancer."""
        link = self.get(V1, ident)
        return (link.get("targetArns") or [None])[0] if link is not None else None

    # ------------------------------------------------------------ status
    def _settle(self, kind: str, ident: str) -> None:
        """PENDING → AVAILABLE or FAILED once the targets are looked up (off the event loop)."""
        self._inflight.add(ident)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a direct caller): settle now
            self.settle(kind, ident)
            return
        task = loop.create_task(asyncio.to_thread(self.settle, kind, ident))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    def settle(self, kind: str, ident: str) -> None:
        try:
            self._check(kind, ident)
        finally:
            self._inflight.discard(ident)

    def _check(self, kind: str, ident: str) -> None:
        rec = self.store.get(ident)
        if rec is None or rec["kind"] != kind:
            return
        link = rec["link"]
        try:
            if kind == V1:
                problem = self.network.load_balancer(link["targetArns"][0])
            else:
                problem = self.network.subnets_and_groups(link["SubnetIds"], link["SecurityGroupIds"])
        except Unchecked as e:
            log.info("VPC link %s: its targets were not checked (%s); it is taken as AVAILABLE", ident, e)
            problem = None
        rec = self.store.get(ident)  # as it is now (renamed or deleted meanwhile)
        if rec is None:
            return
        link = dict(rec["link"])
        if kind == V1:
            link.update(status="FAILED" if problem else "AVAILABLE", statusMessage=problem or READY_V1)
        else:
            link.update(VpcLinkStatus="FAILED" if problem else "AVAILABLE", VpcLinkStatusMessage=problem or READY_V2)
        self._put(kind, link)

    def users(self, apis: "HttpApiStore", kind: str, ident: str) -> list[str]:
        """What uses a link: ``<api id>/<integration id>`` (v2) or ``<method>:<resource id>`` (v1)."""
        out = []
        for api_id in apis.ids():
            doc = apis.get(api_id) or {}
            if kind == V2:
                out += [f"{api_id}/{i}" for i, integ in (doc.get("integrations") or {}).items()
                        if integ.get("ConnectionType") == "VPC_LINK" and integ.get("ConnectionId") == ident]
                continue
            for res_id, res in (doc.get("resources") or {}).items():
                for verb, method in (res.get("resourceMethods") or {}).items():
                    integ = method.get("methodIntegration") or {}
                    if integ.get("connectionType") == "VPC_LINK" and integ.get("connectionId") == ident:
                        out.append(f"{verb}:{res_id}")
        return out


def _check_tags(tags: dict | None, limits: Limits) -> None:
    if tags and len(tags) > limits.tags_per_resource:
        raise bad(f"Too many tags: at most {limits.tags_per_resource} per resource.")
