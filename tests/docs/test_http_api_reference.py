"""docs/reference/http-api.md and docs/reference/openapi.json are what the server's OpenAPI
document says (scripts/http-api-docs writes them)."""

from __future__ import annotations

from billing_ledger.server import reference


def test_the_committed_http_api_reference_is_current() -> None:
    for path, text in reference.written().items():
        committed = (reference.ROOT / path).read_text("utf-8")
        assert committed == text, f"{path} is stale: run scripts/http-api-docs"
