"""The bundled JSON Schemas: valid Draft 2020-12, self-contained, never fetched, never replaced."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import referencing.exceptions

from stdkit import schema, yamlio
from stdkit.validate import validate

from .conftest import REPO_ROOT


@pytest.mark.parametrize("name", schema.SCHEMA_NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    contents = json.loads(schema.schema_text(name))
    assert contents["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(contents)


def test_top_level_schemas_folder_is_the_package_one() -> None:
    top = REPO_ROOT / "schemas"
    assert top.resolve() == (REPO_ROOT / "src" / "stdkit" / "schemas").resolve()


def test_no_reference_is_ever_retrieved() -> None:
    registry = schema._registry()
    with pytest.raises(referencing.exceptions.Unresolvable):
        registry.resolver().lookup("https://example.org/evil.schema.json")


def test_remote_ref_in_data_is_just_data(tmp_path: Path) -> None:
    doc = yamlio.parse('id: x\ntype: clause\ntitle: {"$ref": "http://127.0.0.1:9/x"}\n', "p.yaml")
    found = schema.check(doc, "part")
    assert [d.code for d in found] == ["SCH001"]


def test_repository_cannot_bring_its_own_schemas(shipped_repo: Path) -> None:
    # A permissive schema in the checked repository changes nothing.
    (shipped_repo / "schemas").mkdir()
    (shipped_repo / "schemas" / "part.schema.json").write_text("{}", encoding="utf-8")
    scope = shipped_repo / "standards" / "rfia-0101" / "scope.yaml"
    scope.write_text(scope.read_text(encoding="utf-8") + "anything: 1\n", encoding="utf-8")
    codes = [d.code for d in validate(shipped_repo).diagnostics]
    assert codes == ["SCH002"]


def test_trailing_newline_in_an_id_is_refused() -> None:
    doc = yamlio.parse('id: "scope\\n"\ntype: scope\n', "p.yaml")
    assert [d.code for d in schema.check(doc, "part")] == ["SCH001"]
