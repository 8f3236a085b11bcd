"""CloudFormation's ``AWS::Include`` transform, expanded before anything else reads the template.

``Fn::Transform: {Name: AWS::Include, Parameters: {Location: …}}`` anywhere in the template is
replaced by the YAML or JSON snippet at ``Location``: as the whole value when it is the object's only
key (``DefinitionBody: {Fn::Transform: …}``, SAM's way of keeping an OpenAPI file outside the
template while intrinsics in it still resolve), or merged into the object beside its other keys
(``Resources: {Fn::Transform: …, MyQueue: …}``). ``Location`` is an ``s3://bucket/key`` URI read
through boto3's standard S3 configuration, or, as ``aws cloudformation package`` uploads it, a
local file relative to the template. A snippet may include further snippets. At the template's top
level, ``Transform: {Name: AWS::Include, …}`` (alone or in the Transform list beside SAM's) merges the
snippet's sections into the template's (``expand_template``).
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/transform-aws-include.html
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .template import TemplateError

INCLUDE = "AWS::Include"
MAX_DEPTH = 10  # includes within includes (a loop stops here)


def _parse(text: str, where: str) -> Any:
    from samtranslator.yaml_helper import yaml_parse

    try:
        return yaml_parse(text)
    except Exception as e:
        raise TemplateError(f"AWS::Include {where} is not valid YAML or JSON: {e}") from None


def _location(spec: Any) -> str | None:
    """The Location of an AWS::Include ``Fn::Transform`` value, or None for another transform."""
    if not isinstance(spec, dict) or spec.get("Name") != INCLUDE:
        return None
    location = (spec.get("Parameters") or {}).get("Location")
    if not isinstance(location, str) or not location:
        raise TemplateError("AWS::Include needs Parameters.Location (an s3:// URI)")
    return location


def expand(node: Any, base: Path, read_s3: Callable[[str, str], bytes], depth: int = 0,
           files: list[Path] | None = None) -> Any:
    """``node`` with every AWS::Include replaced by its snippet (the tree is rebuilt, not changed in place);
    the local snippet files read are added to ``files`` (what ``--watch`` watches)."""
    if isinstance(node, list):
        return [expand(v, base, read_s3, depth, files) for v in node]
    if not isinstance(node, dict):
        return node
    location = _location(node.get("Fn::Transform"))
    if location is None:
        return {k: expand(v, base, read_s3, depth, files) for k, v in node.items()}
    if depth >= MAX_DEPTH:
        raise TemplateError(f"AWS::Include {location}: includes nested more than {MAX_DEPTH} deep")
    snippet = expand(_parse(_read(location, base, read_s3, files), location), base, read_s3, depth + 1, files)
    rest = {k: expand(v, base, read_s3, depth, files) for k, v in node.items() if k != "Fn::Transform"}
    if not rest:
        return snippet
    if not isinstance(snippet, dict):
        raise TemplateError(f"AWS::Include {location}: a snippet merged beside other keys must be an object")
    return {**rest, **snippet}


def _read(location: str, base: Path, read_s3: Callable[[str, str], bytes], files: list[Path] | None = None) -> str:
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        if not bucket or not key:
            raise TemplateError(f"AWS::Include Location {location} is not s3://bucket/key")
        data = read_s3(bucket, key)
    else:
        if files is not None:
            files.append((base / location).resolve())
        try:
            data = (base / location).read_bytes()
        except OSError as e:
            raise TemplateError(f"AWS::Include Location {location}: {e}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise TemplateError(f"AWS::Include {location} is not UTF-8 text") from None


def expand_template(template: dict, base: Path, read_s3: Callable[[str, str], bytes],
                    files: list[Path] | None = None) -> dict:
    """The template with its top-level AWS::Include transforms merged in, then every ``Fn::Transform`` one."""
    transform = template.get("Transform")
    listed = transform if isinstance(transform, list) else [transform] if transform is not None else []
    includes = [t for t in listed if _location(t) is not None]
    if includes:
        template = {k: v for k, v in template.items() if k != "Transform"}
        kept = [t for t in listed if _location(t) is None]
        if kept:
            template["Transform"] = kept if isinstance(transform, list) else kept[0]
        for spec in includes:
            location = _location(spec)
            snippet = _parse(_read(location, base, read_s3, files), location)
            if not isinstance(snippet, dict):
                raise TemplateError(f"AWS::Include {location}: a top-level snippet must be an object")
            for key, value in snippet.items():
                old = template.get(key)
                template[key] = {**old, **value} if isinstance(old, dict) and isinstance(value, dict) else value
    return expand(template, base, read_s3, files=files)
