"""Private custom domain names of API Gateway (REST, v1): identifiers, resource policies, access associations.

AWS (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-custom-domains.html,
…/apigateway-private-custom-domains-tutorial.html, API_CreateDomainNameAccessAssociation.html): a
private domain name (``endpointConfiguration.types: [PRIVATE]``) is known by its name and a
``domainNameId``; its ARN is ``arn:aws:apigateway:<region>:<account>:/domainnames/<name>+<id>``. It is
reached only through a VPC endpoint that has a *domain name access association* with it, and its resource
``policy`` (``execute-api:Invoke``, typically conditioned on ``aws:SourceVpce``) must allow the request;
its base path mappings name private REST APIs only.

Lamb has no VPC endpoints. A request reaches a private domain name when it names the VPC endpoint it
stands for in the ``x-lamb-vpce-id`` header (Lamb's, not AWS's) and its ``Host`` (or
``/_lamb/domains/<name>/`` path) names the domain: the endpoint must have an access association with
the domain, and the domain's policy is evaluated by ``policy.evaluate`` for an anonymous principal with
``aws:SourceVpce`` set to the named endpoint (``execute-api:/…`` resources read as the domain's
``arn:aws:execute-api:<region>:<account>:/domainnames/<name>+<id>``). Anything else: 403.
"""

from __future__ import annotations

import json
import re

from ..policy import evaluate as pe
from ..protocol.errors import AwsError
from . import resource_policy

HEADER = "x-lamb-vpce-id"  # the VPC endpoint a request to a private domain name comes through (Lamb's)
VPCE = re.compile(r"^vpce-[0-9a-f]{8,17}$")


def bad(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)


def key(name: str, domain_id: str) -> str:
    """A private domain's key in the domains store (public ones are stored by their name alone)."""
    return f"{name}+{domain_id}"


def arn(region: str, account: str, name: str, domain_id: str) -> str:
    return f"arn:aws:apigateway:{region}:{account}:/domainnames/{key(name, domain_id)}"


def execute_arn(region: str, account: str, name: str, domain_id: str) -> str:
    """What a private domain's policy calls it (``execute-api:/*`` stands for it)."""
    return f"arn:aws:execute-api:{region}:{account}:/domainnames/{key(name, domain_id)}"


def association_arn(region: str, account: str, name: str, domain_id: str, vpce: str) -> str:
    return (f"arn:aws:apigateway:{region}:{account}:/domainnameaccessassociations/domainname/"
            f"{key(name, domain_id)}/vpcesource/{vpce}")


def parse_arn(value: str) -> tuple[str, str] | None:
    """(name, domain name id) of a private domain name's ARN, or None."""
    _, sep, rest = (value or "").partition(":/domainnames/")
    name, plus, domain_id = rest.partition("+")
    if not sep or not plus or not name or not domain_id or "/" in domain_id:
        return None
    return name, domain_id


def check_policy(text: str | None) -> dict:
    """A private domain's resource policy (JSON text; AWS requires one), parsed."""
    if not text:
        raise bad("A policy is required for a private custom domain name.")
    try:
        doc = json.loads(text)
    except ValueError:
        raise bad("Invalid policy document: the policy is not valid JSON.") from None
    if not isinstance(doc, dict) or not doc.get("Statement"):
        raise bad("Invalid policy document: a Statement is required.")
    if not resource_policy.well_formed(doc):  # else every request through the name would fail to evaluate it
        raise bad(resource_policy.INVALID)
    return doc


def allowed(policy_text: str, vpce: str, domain_arn: str) -> bool:
    """Whether a private domain's policy lets an anonymous caller through ``vpce`` invoke it."""
    doc = resource_policy.expand(json.loads(policy_text), domain_arn, whole_star=True)
    return resource_policy.decide(doc, pe.Principal.anonymous(), domain_arn, {"aws:SourceVpce": vpce}) \
        is pe.Decision.ALLOW
