"""The hand-written OpenAPI document: valid, in step with the code, served as written and
shown at /api/reference/."""

from __future__ import annotations

import json
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_YAML = ROOT / "docs" / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DOCUMENT_URI = "urn:marketing-op:openapi"


@cache
def document() -> dict[str, Any]:
    with OPENAPI_YAML.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


@cache
def generated() -> dict[str, Any]:
    """The schema that django-ninja generates from the code (what /api/docs shows)."""
    from marketing_op.config.api import api

    return api.get_openapi_schema()


def resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(METHOD, path): operation}`` with path-level parameters merged in."""
    found = {}
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                operation = dict(item[method])
                operation["parameters"] = [
                    resolve(spec, parameter)
                    for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]
                ]
                found[(method.upper(), path)] = operation
    return found


def query_parameters(spec: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation["parameters"] if p.get("in") == "query"}


def status_codes(spec: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """The status codes the framework declares for an operation.

    Left out: ``default``, and responses marked ``x-returned-by: middleware`` (answered by
    Django middleware before routing, so django-ninja cannot know them).
    """
    return {
        str(code)
        for code, response in operation.get("responses", {}).items()
        if str(code) != "default" and resolve(spec, response).get("x-returned-by") != "middleware"
    }


def label(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"


# ---------------------------------------------------------------------------------------------
# (a) a valid OpenAPI 3.1 document


def test_the_document_is_valid_openapi_3_1():
    spec = document()
    assert str(spec.get("openapi", "")).startswith("3.1"), "docs/openapi.yaml must be OpenAPI 3.1"
    try:
        validate(spec)
    except OpenAPIValidationError as error:  # pragma: no cover - shown only on failure
        pytest.fail(f"docs/openapi.yaml is not valid OpenAPI 3.1: {error}")


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML that viewers read too (Swagger UI refuses a duplicated key; PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicated = sorted({str(key) for key in keys if keys.count(key) > 1})
        if duplicated:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicated keys {duplicated}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


def test_the_document_has_no_duplicated_keys():
    try:
        yaml.load(OPENAPI_YAML.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # noqa: S506
    except yaml.constructor.ConstructorError as error:
        pytest.fail(f"docs/openapi.yaml: {error}")


def test_every_response_has_an_example_that_matches_its_schema():
    spec = document()
    registry: Registry = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(spec))
    problems = []
    for key, operation in operations(spec).items():
        for status, raw in operation["responses"].items():
            response = resolve(spec, raw)
            for media_type, media in response.get("content", {}).items():
                where = f"{label(key)} -> {status} {media_type}"
                examples = [media["example"]] if "example" in media else []
                examples += [resolve(spec, e)["value"] for e in media.get("examples", {}).values()]
                if not examples:
                    problems.append(f"{where}: no example")
                    continue
                schema = {"$ref": _absolute_ref(media["schema"])}
                validator = OAS31Validator(
                    schema, registry=registry, format_checker=OAS31Validator.FORMAT_CHECKER
                )
                for example in examples:
                    for error in validator.iter_errors(example):
                        problems.append(f"{where}: example does not match: {error.message}")
    assert not problems, "Response examples in docs/openapi.yaml:\n" + "\n".join(problems)


def _absolute_ref(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    assert ref, f"response schemas should be components, got an inline schema {schema!r}"
    return f"{DOCUMENT_URI}{ref}"


def test_paginated_responses_document_data_meta_and_the_link_header():
    spec = document()
    page_metas = {
        "#/components/schemas/PageMeta",
        "#/components/schemas/CursorPageMeta",
        "#/components/schemas/ReportPageMeta",
    }
    problems = []
    for key, operation in operations(spec).items():
        if "page_size" not in query_parameters(spec, operation):
            continue
        response = resolve(spec, operation["responses"]["200"])
        if "Link" not in response.get("headers", {}):
            problems.append(f"{label(key)}: 200 documents no Link header")
        schema = resolve(spec, response["content"]["application/json"]["schema"])
        if set(schema.get("required", [])) != {"data", "meta"}:
            problems.append(f"{label(key)}: 200 body must require exactly data and meta")
        if schema["properties"]["meta"].get("$ref") not in page_metas:
            problems.append(f"{label(key)}: meta is not one of {sorted(page_metas)}")
    assert not problems, "\n".join(problems)


def test_every_401_documents_the_www_authenticate_header():
    spec = document()
    missing = [
        label(key)
        for key, operation in operations(spec).items()
        if "401" in operation["responses"]
        and not resolve(spec, operation["responses"]["401"])
        .get("headers", {})
        .get("WWW-Authenticate")
    ]
    assert not missing, f"401 without a WWW-Authenticate header: {', '.join(missing)}"


def test_percentage_is_a_two_decimal_string():
    schema = document()["components"]["schemas"]["ChannelShare"]["properties"]["percentage"]
    pattern = re.compile(schema["pattern"])
    assert schema["type"] == "string"
    assert all(pattern.search(value) for value in ("67.74", "0.00", "100.00"))
    assert not any(pattern.search(value) for value in ("67.7", "67", "67.745", "-1.00", "6a.00"))


# ---------------------------------------------------------------------------------------------
# (b) the same operations, parameters and status codes as the code


def test_the_framework_schema_uses_the_same_path_prefix():
    paths = list(generated()["paths"])
    assert paths, "django-ninja generated no paths"
    assert all(path.startswith("/api/") for path in paths), (
        f"django-ninja paths are expected to include the /api/ prefix: {paths}"
    )


def test_the_document_and_the_code_have_the_same_paths():
    documented, implemented = set(document()["paths"]), set(generated()["paths"])
    assert documented == implemented, (
        "Paths differ between docs/openapi.yaml and the code.\n"
        f"  only in the code (undocumented): {sorted(implemented - documented)}\n"
        f"  only in docs/openapi.yaml (not implemented): {sorted(documented - implemented)}"
    )


def test_the_document_and_the_code_have_the_same_methods_per_path():
    documented, implemented = set(operations(document())), set(operations(generated()))
    assert documented == implemented, (
        "Operations differ between docs/openapi.yaml and the code.\n"
        f"  only in the code (undocumented): {sorted(map(label, implemented - documented))}\n"
        f"  only in docs/openapi.yaml (not implemented): "
        f"{sorted(map(label, documented - implemented))}"
    )


def test_the_document_and_the_code_have_the_same_query_parameters():
    documented, implemented = operations(document()), operations(generated())
    problems = []
    for key in sorted(documented.keys() & implemented.keys()):
        in_doc = query_parameters(document(), documented[key])
        in_code = query_parameters(generated(), implemented[key])
        if in_doc != in_code:
            problems.append(
                f"{label(key)}: only in the code {sorted(in_code - in_doc)}, "
                f"only in docs/openapi.yaml {sorted(in_doc - in_code)}"
            )
    assert not problems, "Query parameters differ:\n" + "\n".join(problems)


def test_the_document_and_the_code_have_the_same_required_query_parameters():
    documented, implemented = operations(document()), operations(generated())
    problems = []
    for key in sorted(documented.keys() & implemented.keys()):
        required_doc = {p["name"] for p in documented[key]["parameters"] if p.get("required")}
        required_code = {p["name"] for p in implemented[key]["parameters"] if p.get("required")}
        if required_doc != required_code:
            problems.append(
                f"{label(key)}: required in the code {sorted(required_code)}, "
                f"in docs/openapi.yaml {sorted(required_doc)}"
            )
    assert not problems, "Required query parameters differ:\n" + "\n".join(problems)


def test_the_document_and_the_code_have_the_same_status_codes():
    documented, implemented = operations(document()), operations(generated())
    problems = []
    for key in sorted(documented.keys() & implemented.keys()):
        in_doc = status_codes(document(), documented[key])
        in_code = status_codes(generated(), implemented[key])
        if in_doc != in_code:
            problems.append(
                f"{label(key)}: only in the code {sorted(in_code - in_doc)}, "
                f"only in docs/openapi.yaml {sorted(in_doc - in_code)}"
            )
    assert not problems, "Response status codes differ:\n" + "\n".join(problems)


def test_the_document_and_the_code_agree_on_deprecation_and_authentication():
    documented, implemented = operations(document()), operations(generated())
    problems = []
    for key in sorted(documented.keys() & implemented.keys()):
        if bool(documented[key].get("deprecated")) != bool(implemented[key].get("deprecated")):
            problems.append(f"{label(key)}: deprecated differs")
        doc_schemes = _http_schemes(document(), documented[key])
        code_schemes = _http_schemes(generated(), implemented[key])
        if doc_schemes != code_schemes:
            problems.append(
                f"{label(key)}: authentication in the code {sorted(code_schemes)}, "
                f"in docs/openapi.yaml {sorted(doc_schemes)}"
            )
    assert not problems, "\n".join(problems)


def _http_schemes(spec: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """The HTTP auth schemes (basic, bearer) an operation accepts; names differ by design."""
    schemes = spec.get("components", {}).get("securitySchemes", {})
    requirements = operation.get("security", spec.get("security", [])) or []
    return {schemes[name].get("scheme", name) for item in requirements for name in item}


# ---------------------------------------------------------------------------------------------
# (c) served as written, and shown by Swagger UI at /api/reference/


class PageParts(HTMLParser):
    """The scripts (``src`` or inline type and text) and stylesheets of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str]] = []
        self.stylesheets: list[str] = []
        self._in_script: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "script":
            self._in_script = {**attributes, "text": ""}
            self.scripts.append(self._in_script)
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes["href"])

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._in_script["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None


def test_the_document_is_served_as_written(client):
    response = client.get("/api/openapi.yaml")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    assert response.content == OPENAPI_YAML.read_bytes()
    assert yaml.safe_load(response.content) == document()


def test_the_reference_page_shows_the_document_with_swagger_ui(client):
    response = client.get("/api/reference/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = PageParts()
    page.feed(response.content.decode())
    sources = [script["src"] for script in page.scripts if "src" in script]
    inline = [script for script in page.scripts if "src" not in script]
    assert [Path(source).name for source in sources] == [
        "swagger-ui-bundle.js",
        "swagger-ui-init.js",
    ]
    assert [script["type"] for script in inline] == ["application/json"], "no inline code"
    assert json.loads(inline[0]["text"])["url"] == "/api/openapi.yaml"
    for asset in [*sources, *page.stylesheets]:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content), asset


def test_the_reference_page_allows_only_its_own_scripts_and_styles(client):
    policy = client.get("/api/reference/")["Content-Security-Policy"]

    directives = dict(directive.strip().split(" ", 1) for directive in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
