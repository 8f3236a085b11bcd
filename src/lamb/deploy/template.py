"""Reading a template: SAM or CloudFormation, YAML (with the short-form tags ``!Ref``,
``!GetAtt``, ...) or JSON, including ``sam build``'s ``.aws-sam/build/template.yaml``."""

from __future__ import annotations

from pathlib import Path

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


class TemplateError(Exception):
    pass


def load(path: Path) -> dict:
    """The template as a dict. YAML is a superset of JSON, so one parser reads both."""
    try:
        from samtranslator.yaml_helper import yaml_parse  # the CloudFormation tag constructors SAM uses
    except ImportError:
        raise TemplateError("lamb deploy needs aws-sam-translator: pip install aws-sam-translator") from None

    try:
        text = path.read_text()
    except OSError as e:
        raise TemplateError(f"cannot read {path}: {e}") from None
    try:
        doc = yaml_parse(text)
    except Exception as e:
        raise TemplateError(f"{path} is not valid YAML or JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise TemplateError(f"{path}: a template needs a Resources section")
    return doc


def is_sam(template: dict) -> bool:
    transform = template.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return SAM_TRANSFORM in names
