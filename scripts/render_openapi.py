"""Render an OpenAPI 3.1 document to one self-contained, static HTML page.

Usage: python scripts/render_openapi.py docs/openapi.yaml docs/openapi.html

The page needs no network: no scripts, no fonts, no CDN; the CSS is inline. The output
depends only on the document, so rendering twice gives the same bytes (a test checks that
the committed HTML is up to date).
"""

from __future__ import annotations

import json
import re
import sys
from html import escape
from pathlib import Path
from typing import Any

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-soft: #f6f8fa;
  --accent: #0969da; --get: #1a7f37; --post: #9a6700; --delete: #cf222e; --other: #8250df; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: #fff; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 24px 80px; }
h1 { font-size: 1.9em; margin: 0.2em 0; }
h2 { font-size: 1.45em; border-bottom: 1px solid var(--line); padding-bottom: 0.25em;
  margin-top: 2.2em; }
h3 { font-size: 1.15em; margin: 0; display: flex; gap: 0.6em; align-items: center;
  flex-wrap: wrap; }
h4 { font-size: 1em; margin: 1.2em 0 0.4em; }
h5 { font-size: 0.95em; margin: 0.9em 0 0.3em; color: var(--muted); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { background: var(--bg-soft); padding: 0.1em 0.3em; border-radius: 4px; }
pre { background: var(--bg-soft); border: 1px solid var(--line); border-radius: 6px;
  padding: 10px 12px; overflow-x: auto; margin: 0.4em 0 0.8em; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0 0.8em; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left;
  vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
td p { margin: 0 0 0.4em; }
td p:last-child { margin: 0; }
.muted { color: var(--muted); }
.meta { color: var(--muted); margin: 0.2em 0 1em; }
.operation { border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px;
  margin: 1.2em 0; }
.operation.deprecated { opacity: 0.85; border-style: dashed; }
.method { display: inline-block; min-width: 4.6em; text-align: center; color: #fff;
  font: 600 12px/1.9 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  border-radius: 4px; padding: 0 6px; text-transform: uppercase; background: var(--other); }
.method.get { background: var(--get); }
.method.post { background: var(--post); }
.method.delete { background: var(--delete); }
.path { font: 600 15px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.badge { font-size: 12px; border: 1px solid var(--line); border-radius: 10px;
  padding: 0 8px; color: var(--muted); font-weight: 500; }
.badge.warn { border-color: #d4a72c; color: #7d4e00; background: #fff8c5; }
.status { font: 600 14px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.status.s2 { color: var(--get); }
.status.s4 { color: var(--post); }
.status.s5 { color: var(--delete); }
.response { border-left: 3px solid var(--line); padding: 2px 0 2px 12px; margin: 0.8em 0; }
nav ul { list-style: none; padding-left: 0; margin: 0.3em 0 0.8em; }
nav li { margin: 0.2em 0; }
nav .method { min-width: 4.2em; font-size: 11px; line-height: 1.7; }
.toc-tag { font-weight: 600; margin-top: 0.8em; }
"""


# ---------------------------------------------------------------------------------------------
# Small helpers


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def operation_anchor(method: str, path: str) -> str:
    return f"op-{method}-{slug(path)}"


def ref_target(ref: str) -> tuple[str, str]:
    """``#/components/schemas/Name`` -> ("schemas", "Name")."""
    parts = ref.removeprefix("#/components/").split("/")
    return parts[0], parts[-1]


def ref_anchor(ref: str) -> str:
    kind, name = ref_target(ref)
    return f"{kind}-{slug(name)}"


def ref_link(ref: str) -> str:
    _, name = ref_target(ref)
    return f'<a href="#{ref_anchor(ref)}"><code>{escape(name)}</code></a>'


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` pointers until a node without one."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            break
        seen.add(ref)
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def inline_markdown(text: str) -> str:
    """Escaped text with `code`, **bold** and *emphasis* (the subset the document uses)."""
    pieces = re.split(r"(`[^`]*`)", text)
    out = []
    for piece in pieces:
        if len(piece) >= 2 and piece.startswith("`") and piece.endswith("`"):
            out.append(f"<code>{escape(piece[1:-1])}</code>")
            continue
        html = escape(piece, quote=False)
        html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
        html = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", r"<em>\1</em>", html)
        out.append(html)
    return "".join(out)


def markdown(text: str | None) -> str:
    """Paragraphs and ``- `` lists of a description, as HTML."""
    if not text:
        return ""
    blocks = re.split(r"\n\s*\n", text.strip())
    html = []
    for block in blocks:
        lines = [line.strip() for line in block.splitlines()]
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{inline_markdown(line[2:])}</li>" for line in lines)
            html.append(f"<ul>{items}</ul>")
        else:
            html.append(f"<p>{inline_markdown(' '.join(lines))}</p>")
    return "\n".join(html)


def pretty_json(value: Any) -> str:
    return escape(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False))


def example_block(value: Any) -> str:
    return f"<pre><code>{pretty_json(value)}</code></pre>"


# ---------------------------------------------------------------------------------------------
# Schemas


def type_html(schema: Any) -> str:
    """A short, linked description of a schema's type: ``array of Measurement``."""
    if not isinstance(schema, dict):
        return "any"
    if "$ref" in schema:
        return ref_link(schema["$ref"])
    if "const" in schema:
        return f"<code>{escape(json.dumps(schema['const'], ensure_ascii=False))}</code> (constant)"
    kinds = schema.get("type")
    if isinstance(kinds, list):
        text = " or ".join(escape(str(kind)) for kind in kinds)
    elif kinds == "array":
        text = f"array of {type_html(schema.get('items', {}))}"
    elif kinds:
        text = escape(str(kinds))
    elif "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema.get("anyOf") or []
        text = " or ".join(type_html(option) for option in options)
    else:
        text = "any"
    if "format" in schema:
        text += f" <span class='muted'>({escape(str(schema['format']))})</span>"
    return text


def _json_values(values: list[Any]) -> str:
    return ", ".join(
        f"<code>{escape(json.dumps(value, ensure_ascii=False))}</code>" for value in values
    )


def constraints_html(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    items = []
    labels = [
        ("minimum", "≥ {}"),
        ("exclusiveMinimum", "> {}"),
        ("maximum", "≤ {}"),
        ("exclusiveMaximum", "< {}"),
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
    ]
    for key, label in labels:
        if key in schema:
            text = label.format(schema[key])
            if schema[key] == 1:
                text = text.replace("characters", "character").replace("items", "item")
            items.append(escape(text))
    if "pattern" in schema:
        items.append(f"matches <code>{escape(schema['pattern'])}</code>")
    if "enum" in schema:
        items.append(f"one of {_json_values(schema['enum'])}")
    if "default" in schema:
        default = json.dumps(schema["default"], ensure_ascii=False)
        items.append(f"default <code>{escape(default)}</code>")
    if schema.get("additionalProperties") is False:
        items.append("no other keys")
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        inner = constraints_html(schema["items"])
        if inner:
            items.append(f"items: {inner}")
    if "examples" in schema:
        items.append(f"e.g. {_json_values(schema['examples'])}")
    return "; ".join(items)


def schema_html(document: dict[str, Any], schema: Any) -> str:
    """A schema as a property table (objects) or a one-line type (anything else)."""
    if not isinstance(schema, dict):
        return ""
    parts = []
    if "$ref" in schema:
        parts.append(f"<p>Schema: {ref_link(schema['$ref'])}</p>")
        schema = resolve(document, schema)
    if schema.get("type") == "object" and "properties" in schema:
        required = set(schema.get("required", []))
        rows = []
        for name, prop in schema["properties"].items():
            shown = resolve(document, prop) if "$ref" in prop else prop
            description = markdown(shown.get("description")) if isinstance(shown, dict) else ""
            rows.append(
                "<tr>"
                f"<td><code>{escape(name)}</code></td>"
                f"<td>{type_html(prop)}</td>"
                f"<td>{'yes' if name in required else 'no'}</td>"
                f"<td>{constraints_html(prop)}</td>"
                f"<td>{description}</td>"
                "</tr>"
            )
        parts.append(
            "<table><thead><tr><th>key</th><th>type</th><th>required</th>"
            "<th>constraints</th><th>description</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
        if schema.get("additionalProperties") is False:
            parts.append("<p class='muted'>No other keys.</p>")
    else:
        constraints = constraints_html(schema)
        suffix = f" — {constraints}" if constraints else ""
        parts.append(f"<p>Type: {type_html(schema)}{suffix}</p>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Operations


def parameters_html(document: dict[str, Any], parameters: list[Any]) -> str:
    if not parameters:
        return "<p class='muted'>No parameters.</p>"
    rows = []
    for raw in parameters:
        parameter = resolve(document, raw)
        schema = parameter.get("schema", {})
        style = ""
        if "style" in parameter:
            explode = parameter.get("explode", parameter["style"] == "form")
            style = f"<br><span class='muted'>style {escape(parameter['style'])}"
            style += f", explode {'true' if explode else 'false'}</span>"
        example = ""
        if "example" in parameter:
            example = f"<code>{escape(json.dumps(parameter['example'], ensure_ascii=False))}</code>"
        rows.append(
            "<tr>"
            f"<td><code>{escape(parameter['name'])}</code>{style}</td>"
            f"<td>{escape(parameter['in'])}</td>"
            f"<td>{type_html(schema)}</td>"
            f"<td>{'yes' if parameter.get('required') else 'no'}</td>"
            f"<td>{constraints_html(schema)}</td>"
            f"<td>{markdown(parameter.get('description'))}</td>"
            f"<td>{example}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>name</th><th>in</th><th>type</th><th>required</th>"
        "<th>constraints</th><th>description</th><th>example</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def headers_html(document: dict[str, Any], headers: dict[str, Any]) -> str:
    rows = []
    for name, raw in headers.items():
        header = resolve(document, raw)
        schema = header.get("schema", {})
        example = ""
        if "example" in header:
            example = f"<code>{escape(str(header['example']))}</code>"
        rows.append(
            "<tr>"
            f"<td><code>{escape(name)}</code></td>"
            f"<td>{type_html(schema)}</td>"
            f"<td>{'yes' if header.get('required') else 'no'}</td>"
            f"<td>{constraints_html(schema)}</td>"
            f"<td>{markdown(header.get('description'))}</td>"
            f"<td>{example}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>header</th><th>type</th><th>always sent</th>"
        "<th>constraints</th><th>description</th><th>example</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def response_html(document: dict[str, Any], status: str, raw: Any) -> str:
    response = resolve(document, raw)
    family = f"s{status[0]}" if status[:1].isdigit() else ""
    description_lines = response.get("description", "").strip().splitlines() or [""]
    parts = [
        "<div class='response'>",
        f"<h4><span class='status {family}'>{escape(status)}</span> "
        f"{inline_markdown(description_lines[0])}</h4>",
    ]
    if len(description_lines) > 1:
        parts.append(markdown("\n".join(description_lines[1:])))
    if isinstance(raw, dict) and "$ref" in raw:
        parts.append(f"<p class='muted'>Shared response {ref_link(raw['$ref'])}</p>")
    if response.get("headers"):
        parts.append("<h5>Headers</h5>")
        parts.append(headers_html(document, response["headers"]))
    content = response.get("content", {})
    if not content:
        parts.append("<p class='muted'>No body.</p>")
    for media_type, media in content.items():
        parts.append(f"<h5>Body <code>{escape(media_type)}</code></h5>")
        parts.append(schema_html(document, media.get("schema")))
        if "example" in media:
            parts.append("<h5>Example</h5>")
            parts.append(example_block(media["example"]))
        for name, example in media.get("examples", {}).items():
            example = resolve(document, example)
            parts.append(f"<h5>Example: {escape(example.get('summary', name))}</h5>")
            parts.append(example_block(example.get("value")))
    parts.append("</div>")
    return "\n".join(parts)


def security_html(document: dict[str, Any], operation: dict[str, Any]) -> str:
    requirements = operation.get("security", document.get("security", []))
    if not requirements:
        return "<p><strong>Authentication:</strong> none.</p>"
    names = []
    for requirement in requirements:
        for name in requirement:
            names.append(f'<a href="#security-{slug(name)}"><code>{escape(name)}</code></a>')
    return f"<p><strong>Authentication:</strong> {' or '.join(names)}.</p>"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                found.append((path, method, item[method]))
    return found


def operation_html(document: dict[str, Any], path: str, method: str, operation: dict) -> str:
    path_item = document["paths"][path]
    parameters = list(path_item.get("parameters", [])) + list(operation.get("parameters", []))
    deprecated = operation.get("deprecated", False)
    badges = "<span class='badge warn'>deprecated</span>" if deprecated else ""
    if operation.get("operationId"):
        badges += f" <span class='badge'>{escape(operation['operationId'])}</span>"
    parts = [
        f"<section class='operation{' deprecated' if deprecated else ''}' "
        f"id='{operation_anchor(method, path)}'>",
        f"<h3><span class='method {method}'>{method.upper()}</span>"
        f"<span class='path'>{escape(path)}</span>{badges}</h3>",
    ]
    if operation.get("summary"):
        parts.append(f"<p><strong>{inline_markdown(operation['summary'])}</strong></p>")
    parts.append(markdown(operation.get("description")))
    parts.append(security_html(document, operation))
    parts.append("<h4>Query and path parameters</h4>")
    parts.append(parameters_html(document, parameters))
    if "requestBody" in operation:
        body = resolve(document, operation["requestBody"])
        parts.append("<h4>Request body</h4>")
        for media_type, media in body.get("content", {}).items():
            parts.append(f"<h5><code>{escape(media_type)}</code></h5>")
            parts.append(schema_html(document, media.get("schema")))
    parts.append("<h4>Responses</h4>")
    for status, response in operation.get("responses", {}).items():
        parts.append(response_html(document, str(status), response))
    parts.append("</section>")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# The page


def toc_html(document: dict[str, Any]) -> str:
    tags = [tag["name"] for tag in document.get("tags", [])]
    grouped: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, method, operation in operations(document):
        tag = (operation.get("tags") or ["other"])[0]
        if tag not in tags:
            tags.append(tag)
        grouped.setdefault(tag, []).append((path, method, operation))
    parts = ["<nav><h2 id='contents'>Operations</h2>"]
    for tag in tags:
        if tag not in grouped:
            continue
        parts.append(f"<div class='toc-tag'><a href='#tag-{slug(tag)}'>{escape(tag)}</a></div><ul>")
        for path, method, operation in grouped[tag]:
            deprecated = (
                " <span class='badge warn'>deprecated</span>" if operation.get("deprecated") else ""
            )
            parts.append(
                f"<li><a href='#{operation_anchor(method, path)}'>"
                f"<span class='method {method}'>{method.upper()}</span> "
                f"<span class='path'>{escape(path)}</span></a> "
                f"<span class='muted'>{inline_markdown(operation.get('summary', ''))}</span>"
                f"{deprecated}</li>"
            )
        parts.append("</ul>")
    parts.append(
        "<div class='toc-tag'>Components</div><ul>"
        "<li><a href='#components-schemas'>Schemas</a></li>"
        "<li><a href='#components-responses'>Shared responses</a></li>"
        "<li><a href='#components-parameters'>Shared parameters</a></li>"
        "<li><a href='#components-security'>Authentication schemes</a></li></ul></nav>"
    )
    return "\n".join(parts)


def components_html(document: dict[str, Any]) -> str:
    components = document.get("components", {})
    parts = ["<h2 id='components-schemas'>Schemas</h2>"]
    for name, schema in components.get("schemas", {}).items():
        parts.append(f"<h3 id='schemas-{slug(name)}'><code>{escape(name)}</code></h3>")
        parts.append(markdown(schema.get("description")))
        parts.append(schema_html(document, schema))
    parts.append("<h2 id='components-responses'>Shared responses</h2>")
    for name, response in components.get("responses", {}).items():
        parts.append(f"<h3 id='responses-{slug(name)}'><code>{escape(name)}</code></h3>")
        parts.append(response_html(document, "—", response))
    parts.append("<h2 id='components-parameters'>Shared parameters</h2>")
    for name in components.get("parameters", {}):
        parts.append(f"<div id='parameters-{slug(name)}'></div>")
    parts.append(
        parameters_html(
            document,
            [
                {"$ref": f"#/components/parameters/{name}"}
                for name in components.get("parameters", {})
            ],
        )
    )
    if components.get("headers"):
        parts.append("<h2 id='components-headers'>Shared headers</h2>")
        for name in components["headers"]:
            parts.append(f"<div id='headers-{slug(name)}'></div>")
        parts.append(headers_html(document, components["headers"]))
    parts.append("<h2 id='components-security'>Authentication schemes</h2>")
    for name, scheme in components.get("securitySchemes", {}).items():
        kind = scheme.get("type", "")
        detail = scheme.get("scheme", scheme.get("name", ""))
        bearer_format = scheme.get("bearerFormat")
        extra = f", format <code>{escape(bearer_format)}</code>" if bearer_format else ""
        parts.append(
            f"<h3 id='security-{slug(name)}'><code>{escape(name)}</code></h3>"
            f"<p class='muted'>{escape(kind)} {escape(detail)}{extra}</p>"
            f"{markdown(scheme.get('description'))}"
        )
    return "\n".join(parts)


def render(document: dict[str, Any]) -> str:
    info = document.get("info", {})
    title = info.get("title", "API")
    grouped: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    tag_names = [tag["name"] for tag in document.get("tags", [])]
    for path, method, operation in operations(document):
        tag = (operation.get("tags") or ["other"])[0]
        if tag not in tag_names:
            tag_names.append(tag)
        grouped.setdefault(tag, []).append((path, method, operation))
    tag_descriptions = {tag["name"]: tag.get("description") for tag in document.get("tags", [])}

    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class='meta'>Version {escape(str(info.get('version', '')))} · "
        f"OpenAPI {escape(str(document.get('openapi', '')))}"
        + "".join(
            f" · server <code>{escape(server.get('url', ''))}</code>"
            for server in document.get("servers", [])
        )
        + "</p>",
    ]
    if info.get("summary"):
        body.append(f"<p><strong>{inline_markdown(info['summary'])}</strong></p>")
    body.append(markdown(info.get("description")))
    body.append(toc_html(document))
    for tag in tag_names:
        if tag not in grouped:
            continue
        body.append(f"<h2 id='tag-{slug(tag)}'>{escape(tag)}</h2>")
        body.append(markdown(tag_descriptions.get(tag)))
        for path, method, operation in grouped[tag]:
            body.append(operation_html(document, path, method, operation))
    body.append(components_html(document))

    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} {escape(str(info.get('version', '')))}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(part for part in body if part)
        + "\n<p class='muted'>Generated from the OpenAPI document by "
        "<code>scripts/render_openapi.py</code>; do not edit by hand.</p>\n"
        "</main>\n</body>\n</html>\n"
    )


def render_file(source: Path) -> str:
    with source.open(encoding="utf-8") as stream:
        document = yaml.safe_load(stream)
    return render(document)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {argv[0]} OPENAPI_YAML OUTPUT_HTML", file=sys.stderr)
        return 2
    source, target = Path(argv[1]), Path(argv[2])
    html = render_file(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    print(f"wrote {target} ({len(html)} characters) from {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
