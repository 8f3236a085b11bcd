"""SAM → CloudFormation with aws-sam-translator, the library SAM itself uses.
https://github.com/aws/serverless-application-model (``Translator.translate``)."""

from __future__ import annotations

import copy
import logging

from .template import TemplateError, is_sam


def to_cloudformation(template: dict, parameters: dict[str, str], region: str) -> dict:
    """The plain CloudFormation template (a copy; a template without the SAM transform is returned as is)."""
    if not is_sam(template):
        return copy.deepcopy(template)
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    # The session only tells the translator the region (ARN partitions); it makes no calls.
    session = boto3.Session(region_name=region, aws_access_key_id="lamb", aws_secret_access_key="lamb")
    try:
        # Managed policy names resolve from the translator's bundled map: no IAM call.
        return Translator(None, Parser(), boto_session=session).translate(
            copy.deepcopy(template), parameter_values=dict(parameters), get_managed_policy_map=lambda: {})
    except InvalidDocumentException as e:
        raise TemplateError("; ".join(str(c) for c in e.causes) or str(e)) from None
