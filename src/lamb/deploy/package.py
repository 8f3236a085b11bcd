"""Packaging local code as ``sam package`` does, into a content-addressed cache instead of S3.

Local ``CodeUri``/``ContentUri`` (SAM) and ``Code``/``Content`` given as a path (plain
CloudFormation, as ``aws cloudformation package`` accepts) are zipped (a folder) or read
(a .zip / .jar file) and replaced by ``s3://lamb-deploy/<sha256>.zip``. The key is the
hash of the zip's bytes, and the zip of a folder is deterministic (sorted names, fixed
timestamps, file modes kept), so ``AutoPublishAlias`` — whose Version logical id SAM
derives from the code location — publishes a new version exactly when the code changed.
``code.py`` turns such a location back into the zip when the function is created.

API definitions are packaged the same way, as ``sam package`` uploads them: a local SAM
``DefinitionUri`` (on ``AWS::Serverless::Api``/``HttpApi`` or in ``Globals``) becomes
``s3://lamb-deploy/<sha256>.<ext>``, and a local ``BodyS3Location`` (``AWS::ApiGateway::RestApi``,
``AWS::ApiGatewayV2::Api``, as ``aws cloudformation package`` accepts it) becomes ``{Bucket, Key}``.
The handlers read either location back through ``Env.code`` (the cache, or S3 for any other bucket).

With ``hot_reload`` (``lamb deploy --hot-reload``), a function's local code folder is not
zipped: it becomes ``s3://hot-reload/<absolute folder>``, Lamb's hot-reload code source
(``lamb.services.hot_reload``), so edits run at the next invocation without a deploy.
https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-cli-command-reference-sam-package.html
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

BUCKET = "lamb-deploy"
HOT_RELOAD_BUCKET = "hot-reload"  # lamb.services.hot_reload.BUCKET (the server's side)
FUNCTION_TYPES = {"AWS::Serverless::Function", "AWS::Lambda::Function"}

# (resource type, property holding the code) as sam package / aws cloudformation package rewrite them
CODE_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Lambda::Function": "Code",
    "AWS::Lambda::LayerVersion": "Content",
}

# (resource type, property holding an API definition file) as sam package / aws cloudformation package rewrite them
DEFINITION_PROPERTIES = {
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::ApiGateway::RestApi": "BodyS3Location",
    "AWS::ApiGatewayV2::Api": "BodyS3Location",
}


class PackageError(Exception):
    pass


@dataclass
class Packaged:
    template: dict
    folders: list[Path] = field(default_factory=list)  # local code folders and definition files (--watch watches them)


def zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                path = Path(root, name)
                st = path.stat()
                info = zipfile.ZipInfo(str(path.relative_to(folder)), date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = (stat.S_IFREG | stat.S_IMODE(st.st_mode)) << 16
                zf.writestr(info, path.read_bytes())
    return buf.getvalue()


class Packager:
    def __init__(self, cache: Path, hot_reload: bool = False):
        self.cache = cache
        self.hot_reload = hot_reload

    def store(self, data: bytes, suffix: str = ".zip") -> str:
        """Keep ``data`` under its hash; return its s3:// location."""
        digest = hashlib.sha256(data).hexdigest()
        self.cache.mkdir(parents=True, exist_ok=True)
        target = self.cache / f"{digest}{suffix}"
        if not target.exists():
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(data)
            tmp.replace(target)
        return f"s3://{BUCKET}/{digest}{suffix}"

    def local(self, bucket: str, key: str) -> bytes | None:
        """The packaged zip (or definition file) for a lamb-deploy location, or None for another bucket."""
        if bucket != BUCKET:
            return None
        path = self.cache / Path(key).name
        if not path.is_file():
            raise PackageError(f"s3://{bucket}/{key}: not in the package cache {self.cache} (deploy again)")
        return path.read_bytes()

    def package(self, template: dict, base: Path) -> Packaged:
        out = Packaged(template)
        globals_fn = (template.get("Globals") or {}).get("Function") or {}
        if isinstance(globals_fn.get("CodeUri"), str):
            globals_fn["CodeUri"] = self._one(globals_fn["CodeUri"], base, out, "Globals.Function.CodeUri", self.hot_reload)
        for logical, res in template["Resources"].items():
            prop = CODE_PROPERTIES.get(res.get("Type", "")) if isinstance(res, dict) else None
            props = res.get("Properties") if prop else None
            if not isinstance(props, dict) or not isinstance(props.get(prop), str):
                continue
            location = self._one(props[prop], base, out, f"{logical}.{prop}", self.hot_reload and res["Type"] in FUNCTION_TYPES)
            if res["Type"].startswith("AWS::Lambda::"):
                bucket, key = location[5:].split("/", 1)
                props[prop] = {"S3Bucket": bucket, "S3Key": key}
            else:
                props[prop] = location
        self._definitions(template, base, out)
        return out

    def _definitions(self, template: dict, base: Path, out: Packaged) -> None:
        for section in ("Api", "HttpApi"):
            g = (template.get("Globals") or {}).get(section) or {}
            if isinstance(g.get("DefinitionUri"), str):
                g["DefinitionUri"] = self._definition(g["DefinitionUri"], base, out, f"Globals.{section}.DefinitionUri")
        for logical, res in template["Resources"].items():
            prop = DEFINITION_PROPERTIES.get(res.get("Type", "")) if isinstance(res, dict) else None
            props = res.get("Properties") if prop else None
            if not isinstance(props, dict) or not isinstance(props.get(prop), str):
                continue
            location = self._definition(props[prop], base, out, f"{logical}.{prop}")
            if prop == "BodyS3Location":
                bucket, key = location[5:].split("/", 1)
                props[prop] = {"Bucket": bucket, "Key": key}
            else:
                props[prop] = location

    def _definition(self, uri: str, base: Path, out: Packaged, where: str) -> str:
        """A local OpenAPI file → its place in the cache (an s3:// URI is kept)."""
        if uri.startswith("s3://"):
            return uri
        path = (base / uri).resolve()
        if not path.is_file():
            raise PackageError(f"{where}: {uri} is neither a file nor an s3:// URI")
        out.folders.append(path)
        suffix = path.suffix.lower() if path.suffix.lower() in (".yaml", ".yml", ".json") else ".yaml"
        return self.store(path.read_bytes(), suffix)

    def _one(self, uri: str, base: Path, out: Packaged, where: str, hot: bool = False) -> str:
        if uri.startswith("s3://"):
            return uri
        path = (base / uri).resolve()
        if path.is_dir() and hot:
            return f"s3://{HOT_RELOAD_BUCKET}/{path.as_posix().lstrip('/')}"
        if path.is_dir():
            out.folders.append(path)
            return self.store(zip_folder(path))
        if path.is_file():
            return self.store(path.read_bytes())
        raise PackageError(f"{where}: {uri} is neither a folder, a file nor an s3:// URI")
