"""Reading the two OpenAPI specs for the tests: operations, response schemas as JSON Schema
(draft 7, refs inlined), and example instances built from the spec's own examples.

The specs are fixtures of the repository (``tests/fixtures/spec/``), so a clone runs every
test; a missing one is a broken checkout, and :func:`load_specs` fails the test (or the
collection of the module that parametrizes over it), never skips it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

SPEC_DIR = Path(__file__).resolve().parent / "fixtures" / "spec"
V2_SPEC = SPEC_DIR / "circleci-api-v2.openapi.json"
RUNNER_SPEC = SPEC_DIR / "circleci-runner-api.openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")
INT64 = (-(2**63), 2**63 - 1)
#: Formats the generators and validators understand; others (int64, float, uri) only
#: document the type.
KNOWN_FORMATS = ("date-time", "uuid")

_CACHE: dict[str, dict[str, Any]] = {}


def load_specs() -> tuple[dict[str, Any], dict[str, Any]]:
    """(v2 spec, runner spec); a missing one fails the caller: it ships with the tests."""
    for path in (V2_SPEC, RUNNER_SPEC):
        if path.name not in _CACHE:
            _CACHE[path.name] = load_spec(path)
    return _CACHE[V2_SPEC.name], _CACHE[RUNNER_SPEC.name]


class SpecOperation:
    """One operation of a spec, with what the tests need of it."""

    def __init__(self, spec: dict[str, Any], api: str, method: str, path: str, op: dict[str, Any]):
        self.spec = spec
        self.api = api
        self.method = method.upper()
        self.path = path
        self.op = op
        self.operation_id: str = op["operationId"]

    def __repr__(self) -> str:
        return f"<{self.operation_id} {self.method} {self.path}>"

    def path_regex(self) -> re.Pattern[str]:
        """The path template as a regex over a request path (after ``/api/vN``); slugs and
        org slugs may hold ``/``."""
        pattern = ""
        for literal, name in re.findall(r"([^{]*)(?:\{([^}]+)\})?", self.path):
            pattern += re.escape(literal)
            if name:
                pattern += (
                    ".+" if name in ("project-slug", "org-slug", "org-slug-or-id") else "[^/]+"
                )
        return re.compile(pattern)

    def responses(self) -> dict[str, dict[str, Any]]:
        return {code: resolve(r, self.spec) for code, r in self.op["responses"].items()}

    def json_responses(self) -> dict[int, dict[str, Any]]:
        """Success status -> the OpenAPI schema of its JSON body."""
        out = {}
        for code, response in self.responses().items():
            if code.startswith("2"):
                content = response.get("content", {}).get("application/json")
                if content and "schema" in content:
                    out[int(code)] = content
        return out


def load_spec(path: Path) -> dict[str, Any]:
    """One spec fixture, parsed; a failure (not a skip) when it is not there."""
    if not path.is_file():
        pytest.fail(
            f"the OpenAPI spec fixture {path} is missing: it is part of the repository "
            "(tests/fixtures/spec/), restore it from version control",
            pytrace=False,
        )
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def operations() -> dict[str, SpecOperation]:
    v2, runner = load_specs()
    out: dict[str, SpecOperation] = {}
    for api, spec in (("v2", v2), ("runner", runner)):
        for path, methods in spec["paths"].items():
            for method in METHODS:
                op = methods.get(method)
                if isinstance(op, dict) and "operationId" in op:
                    out[op["operationId"]] = SpecOperation(spec, api, method, path, op)
    return out


def resolve(node: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def to_json_schema(
    schema: dict[str, Any], spec: dict[str, Any], *, strict: bool = False
) -> dict[str, Any]:
    """An OpenAPI 3.0 schema as self-contained JSON Schema.

    ``nullable``/``x-nullable`` become ``null`` in the type; integers get int64 bounds; a
    schema with no type at all (the spec has a few: ids, a URL prefix, a timestamp) is taken as
    the string CircleCI sends. With ``strict``, objects that do not say otherwise forbid
    undeclared properties: used to check that the fake invents no fields.
    """
    node = resolve(schema, spec)
    out: dict[str, Any] = {}
    nullable = bool(node.get("nullable") or node.get("x-nullable"))
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in node:
            out[combinator] = [to_json_schema(s, spec, strict=strict) for s in node[combinator]]
    kind = node.get("type")
    if kind is None and not any(
        k in node
        for k in ("anyOf", "oneOf", "allOf", "properties", "items", "additionalProperties", "enum")
    ):
        kind = "string"
    if kind is None and "properties" in node:
        kind = "object"
    if kind is None and "items" in node:
        kind = "array"  # PolicyBundle's values: "items" without "type"
    if kind is not None:
        out["type"] = [kind, "null"] if nullable else kind
    elif nullable:
        out = {"anyOf": [out, {"type": "null"}]} if out else {}
    if "enum" in node:
        out["enum"] = list(node["enum"]) + ([None] if nullable else [])
    for key in (
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "required",
    ):
        if key in node:
            out[key] = node[key]
    if node.get("format") in KNOWN_FORMATS:
        out["format"] = node["format"]
    if kind == "integer":
        out.setdefault("minimum", INT64[0])
        out.setdefault("maximum", INT64[1])
    if "properties" in node:
        out["properties"] = {
            name: to_json_schema(sub, spec, strict=strict)
            for name, sub in node["properties"].items()
        }
    if "items" in node:
        out["items"] = to_json_schema(node["items"], spec, strict=strict)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = to_json_schema(extra, spec, strict=strict) if extra else {}
    elif extra is False and "properties" not in node and "type" not in node:
        # update_env_var puts additionalProperties: false beside its anyOf, which read
        # literally forbids every field of both options; the options carry their own.
        pass
    elif extra is not None:
        out["additionalProperties"] = extra
    elif strict and "properties" in node:
        out["additionalProperties"] = False
    return out


# -- instances beyond what a generator picks ------------------------------------------------


def example_instance(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """An instance assembled from the spec's ``example`` values, every optional property
    included; a plausible value where the spec gives no example."""
    node = resolve(schema, spec)
    if "example" in node and node.get("type") != "object" and _fits(node["example"], node):
        return copy.deepcopy(node["example"])
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in node:
            return example_instance(node[combinator][0], spec)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        if "example" in node and "properties" not in node:
            return copy.deepcopy(node["example"])
        return {
            name: example_instance(sub, spec) for name, sub in node.get("properties", {}).items()
        }
    if kind == "array":
        return [example_instance(node.get("items", {}), spec)]
    if "enum" in node:
        return node["enum"][0]
    if kind == "integer":
        return max(1, node.get("minimum", 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if node.get("format") == "date-time":
        return "2026-03-01T12:00:00.000Z"
    if node.get("format") == "uuid":
        return "5034460f-c7c4-4c43-9457-de07e2029e7b"
    return "text"


def _fits(value: Any, node: dict[str, Any]) -> bool:
    """Whether a spec example has the type its schema declares: a few do not (``run_time``,
    a number, has the example ``""``), and those are replaced by a plausible value."""
    kind = node.get("type")
    if value is None:
        return bool(node.get("nullable") or node.get("x-nullable"))
    checks: dict[str, Any] = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
    }
    if kind in checks and not checks[kind](value):
        return False
    if node.get("format") in KNOWN_FORMATS or "enum" in node:
        checker = jsonschema.FormatChecker()
        return not list(
            jsonschema.Draft7Validator(
                {k: node[k] for k in ("format", "enum", "type") if k in node},
                format_checker=checker,
            ).iter_errors(value)
        )
    return True


def media_examples(content: dict[str, Any]) -> Iterator[Any]:
    """The examples a response declares at the media-type level."""
    if "example" in content:
        yield content["example"]
    for example in content.get("examples", {}).values():
        if "value" in example:
            yield example["value"]


def with_nulls(instance: Any, schema: dict[str, Any]) -> Any:
    """``instance`` with every nullable value replaced by null (``schema`` is JSON Schema)."""
    kinds = schema.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        return None
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            k: with_nulls(v, props[k] if k in props else extra if isinstance(extra, dict) else {})
            for k, v in instance.items()
        }
    if isinstance(instance, list):
        return [with_nulls(v, schema.get("items", {})) for v in instance]
    return instance


def with_unknown_fields(instance: Any, schema: dict[str, Any]) -> Any:
    """``instance`` with an undeclared field added to every object that declares properties:
    what a newer CircleCI would send."""
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        out = {
            k: with_unknown_fields(
                v, props[k] if k in props else extra if isinstance(extra, dict) else {}
            )
            for k, v in instance.items()
        }
        if props:
            out["field_added_later"] = {"nested": [1, None, "x"], "flag": True}
        return out
    if isinstance(instance, list):
        return [with_unknown_fields(v, schema.get("items", {})) for v in instance]
    return instance
