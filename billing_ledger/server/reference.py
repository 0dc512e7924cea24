"""The HTTP API's reference page, written from the app's OpenAPI document.

    python -m billing_ledger.server.reference      # writes docs/reference/http-api.md and
                                                   # docs/reference/openapi.json

(``scripts/http-api-docs`` runs it; a test fails when the committed files are not what the
code writes.)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from billing_ledger.api import Ledger
from billing_ledger.server.app import create_app

ROOT = Path(__file__).resolve().parents[2]
PAGE = Path("docs/reference/http-api.md")
DOCUMENT = Path("docs/reference/openapi.json")
METHODS = ("get", "post", "put", "patch", "delete")


def openapi() -> dict[str, Any]:
    """The app's OpenAPI document (the one the server answers at /openapi.json)."""
    with tempfile.TemporaryDirectory() as folder, Ledger(Path(folder) / "doc.sqlite") as ledger:
        document: dict[str, Any] = create_app(ledger).openapi()
    return document


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _anchor(name: str) -> str:
    return f"schema-{name.lower()}"


def kind(schema: dict[str, Any]) -> str:
    """A schema in a few words: ``string (date)``, ``[Account](#...)``, ``array of ...``."""
    if "$ref" in schema:
        name = _name(schema["$ref"])
        return f"[{name}](#{_anchor(name)})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [kind(part) for part in schema[key]]
            nulls = [p for p in parts if p == "null"]
            words = " or ".join(p for p in parts if p != "null")
            return words + (" or null" if nulls else "")
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    type_ = schema.get("type", "any")
    if type_ == "array":
        return f"array of {kind(schema.get('items', {}))}"
    if type_ == "object" and schema.get("properties"):
        fields = ", ".join(f"`{name}`: {kind(spec)}" for name, spec in schema["properties"].items())
        return f"object ({fields})"
    if type_ == "object":
        return "object"
    text = " or ".join(type_) if isinstance(type_, list) else str(type_)
    if "format" in schema:
        text += f" ({schema['format']})"
    if "pattern" in schema:
        text += f" matching `{schema['pattern']}`"
    limits = [f"{word} {schema[key]}" for key, word in (
        ("minimum", "at least"), ("maximum", "at most"), ("maxLength", "at most"),
    ) if key in schema]
    if "maxLength" in schema:
        limits[-1] += " characters"
    return text + (f", {', '.join(limits)}" if limits else "")


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _parameters(operation: dict[str, Any]) -> list[str]:
    params = operation.get("parameters", [])
    if not params:
        return []
    out = ["", "| parameter | in | type | required | description |", "| --- | --- | --- | --- | --- |"]
    for p in params:
        out.append(f"| `{p['name']}` | {p['in']} | {_cell(kind(p.get('schema', {})))} | "
                   f"{'yes' if p.get('required') else 'no'} | {_cell(p.get('description', ''))} |")
    return out


def _responses(operation: dict[str, Any]) -> list[str]:
    out = ["", "| status | body |", "| --- | --- |"]
    for status, answer in sorted(operation["responses"].items()):
        contents = answer.get("content", {})
        bodies = [f"{kind(content.get('schema', {}))} (`{media}`)" for media, content in contents.items()]
        said = answer.get("description", "")
        said = "" if said == "Successful Response" else said
        out.append(f"| {status} | {_cell(said)}{': ' if bodies and said else ''}"
                   f"{_cell('; '.join(bodies))} |")
    return out


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    out = ["", f'<a id="{_anchor(name)}"></a>', "", f"### {name}", ""]
    if schema.get("description"):
        out += [" ".join(schema["description"].split()), ""]
    properties = schema.get("properties", {})
    if not properties:
        out.append(f"{kind(schema)}")
        return out
    required = set(schema.get("required", []))
    out += ["| field | type | required | default | description |", "| --- | --- | --- | --- | --- |"]
    for field, spec in properties.items():
        default = f"`{json.dumps(spec['default'])}`" if "default" in spec else ""
        out.append(f"| `{field}` | {_cell(kind(spec))} | {'yes' if field in required else 'no'} | "
                   f"{default} | {_cell(spec.get('description', ''))} |")
    return out


def markdown(document: dict[str, Any]) -> str:
    info = document["info"]
    out = [
        "# HTTP API",
        "",
        "<!-- Written by scripts/http-api-docs from the server's OpenAPI document; do not edit. -->",
        "",
        f"`billing-ledger serve` answers this API ({info['title']} {info['version']}, OpenAPI "
        f"{document['openapi']}). The same document is served at `/openapi.json` and kept in "
        "[openapi.json](openapi.json); [run the server](../how-to/run-the-server.md) says how "
        "to start it.",
        "",
        " ".join(info.get("description", "").split()),
        "",
        "Every error is an RFC 9457 problem ([Problem](#schema-problem), "
        "`application/problem+json`): 404 for what does not exist, 409 for a taken key or a "
        "reused `Idempotency-Key`, 422 for invalid input or a state that forbids the command, "
        "503 when the database fails or a command keeps losing races (retry it), 401 without the "
        "server's token, 413 for a body over 64 KiB. The [errors](errors.md) and "
        "[bounds](bounds.md) are the command line's.",
    ]
    tags = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {name: [] for name in tags}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                by_tag.setdefault(operation.get("tags", ["other"])[0], []).append((method, path, operation))
    for tag, operations in by_tag.items():
        out += ["", f"## {tag.capitalize()}", ""]
        if tags.get(tag):
            out += [f"{tags[tag].capitalize()}.", ""]
        for method, path, operation in operations:
            out += [f"### `{method.upper()} {path}`", ""]
            out.append(" ".join((operation.get("description") or operation.get("summary", "")).split()))
            out += _parameters(operation)
            body = operation.get("requestBody")
            if body:
                schema = body["content"]["application/json"]["schema"]
                out += ["", f"Request body (`application/json`): {kind(schema)}."]
            out += _responses(operation)
            out.append("")
    out += ["", "## Schemas"]
    for name, schema in document["components"]["schemas"].items():
        out += _schema(name, schema)
    return "\n".join(line.rstrip() for line in out).rstrip() + "\n"


def written() -> dict[Path, str]:
    """What the two files should hold."""
    document = openapi()
    return {PAGE: markdown(document), DOCUMENT: json.dumps(document, indent=2, sort_keys=True) + "\n"}


def main() -> int:
    for path, text in written().items():
        (ROOT / path).write_text(text, "utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
