"""Clause-level diff: golden cases, text diffs per language, moves, classification, the CLI.

Each folder under tests/cases/diff/ holds ``old/`` and ``new/`` repositories; ``expected.txt``,
``expected.json`` and ``expected.rst`` are the text report, the JSON and the redline RST of
the diff between them. Run with STDKIT_UPDATE_GOLDEN=1 to rewrite them on purpose.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from stdkit.baseline import compare, release
from stdkit.diff import DiffResult, diff, format_json, format_text, text_diff, tokens
from stdkit.errors import UsageError
from stdkit.loader import load_repository
from stdkit.redline import redline_html, redline_rst
from tests.test_gitrepo import HOSTILE, commit_all, edit, git, make_repo

CASES = Path(__file__).parent / "cases" / "diff"
UPDATE = bool(os.environ.get("STDKIT_UPDATE_GOLDEN"))
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
GENERAL = "standards/rfia-0101/general.yaml"
MESSAGES = "standards/rfia-0101/messages.yaml"


def case_diff(case: str) -> tuple[DiffResult, Any, Any]:
    old = load_repository(CASES / case / "old", check=False).standards
    new = load_repository(CASES / case / "new", check=False).standards
    return diff(old, new, old_label="old", new_label="new"), old, new


@pytest.mark.parametrize("case", NAMES)
def test_golden(case: str) -> None:
    result, old, new = case_diff(case)
    outputs = {"expected.txt": format_text(result), "expected.json": format_json(result),
               "expected.rst": redline_rst(result, old, new)}
    for name, actual in outputs.items():
        path = CASES / case / name
        if UPDATE:
            path.write_text(actual, encoding="utf-8")
        assert actual == path.read_text(encoding="utf-8"), name


def changes(case: str) -> dict[tuple[str, str], dict[str, Any]]:
    result, _old, _new = case_diff(case)
    return {(c["id"], c["change"]): c for c in json.loads(format_json(result))["changes"]}


def test_json_is_design_section_8() -> None:
    result, _old, _new = case_diff("every-kind")
    doc = json.loads(format_json(result))
    assert doc["old"] == "old" and doc["new"] == "new"
    for c in doc["changes"]:
        assert {"standard", "id", "kind", "change", "fields", "old_number", "new_number",
                "normative"} <= set(c)
        assert c["change"] in ("added", "removed", "modified", "moved")
        assert isinstance(c["normative"], bool) and isinstance(c["fields"], list)


def test_every_change_kind() -> None:
    found = changes("every-kind")
    assert found[("REQ-DIAG-1", "added")]["new_number"] == "3.2"
    assert found[("REQ-DIAG-1", "added")]["within"] == "general-diag"
    assert found[("general-diag", "added")]["normative"] is True
    assert found[("OBC", "removed")]["old_number"] == "4"
    assert found[("REQ-TIME-1", "modified")]["fields"] == ["kind", "text"]
    assert found[("REQ-TIME-1", "modified")]["normative"] is True
    assert found[("SIG-CURR", "modified")]["fields"] == ["start_bit"]
    assert found[("SIG-CURR", "modified")]["normative"] is True
    assert found[("SIG-VOLT", "modified")]["normative"] is False  # a description
    assert found[("annex-a", "modified")]["normative"] is False  # an informative annex
    assert found[("general-timing", "modified")]["normative"] is False  # title and note
    assert found[("term-bms", "modified")]["normative"] is True
    assert found[("t-if", "modified")]["kind"] == "standard"
    assert found[("t-if", "modified")]["fields"] == ["title"]  # not revision or date
    moved = [c for (cid, kind), c in found.items() if kind == "moved"]
    assert [c["id"] for c in moved] == ["SIG-CURR"]
    assert moved[0]["fields"] == ["position"] and moved[0]["normative"] is False


def test_renumbering_is_reported_once() -> None:
    result, _old, _new = case_diff("every-kind")
    ids = {c.id for c in result.changes}
    assert "general-safety" not in ids  # 3.3 → 3.4 only because a clause was inserted
    assert [(r.id, r.old_number, r.new_number) for r in result.renumbered] == [
        ("general-timing", "3.2", "3.3"), ("general-safety", "3.3", "3.4")]


def test_texts_word_level_in_english_character_level_in_chinese() -> None:
    found = changes("every-kind")
    texts = {t["lang"]: t["ops"] for t in found[("REQ-NET-1", "modified")]["texts"]}
    assert texts["zh"] == [["=", "各节点"], ["+", "均"], ["=", "应连接到动力CAN"],
                           ["+", "总线"], ["=", "。"]]
    assert texts["en"] == [["-", "Each"], ["+", "Every"],
                           ["=", " node shall be connected to the powertrain CAN"],
                           ["+", " bus"], ["=", "."]]


def test_tokens() -> None:
    assert tokens("应符合 :ref:`REQ-1` 的规定") == ["应", "符", "合", " ", ":ref:`REQ-1`", " ",
                                                "的", "规", "定"]
    assert tokens("CAN报文 shall") == ["CAN", "报", "文", " ", "shall"]
    assert text_diff("same", "same") == (("=", "same"),)
    assert text_diff("", "new words") == (("+", "new words"),)
    # a role is never split: a changed target replaces the whole role
    assert text_diff("see :ref:`a-1`", "see :ref:`a-2`") == (
        ("=", "see "), ("-", ":ref:`a-1`"), ("+", ":ref:`a-2`"))


def test_moves_across_files_and_renamed_part_files() -> None:
    found = changes("moves")
    safety = found[("general-safety", "moved")]
    assert safety["fields"] == ["parent", "file"]
    assert (safety["old_parent"], safety["new_parent"]) == ("general", "messages")
    assert (safety["old_number"], safety["new_number"]) == ("3.3", "4.1")
    assert safety["new_file"].endswith("messages.yaml")
    annex = found[("annex-example", "moved")]
    assert annex["old_id"] == "annex-a" and annex["fields"] == ["id", "file"]
    assert [k for k in found if k[1] in ("added", "removed")] == []
    # two siblings swapped: one of them moved, not both
    assert [k for k in found if k[0] in ("general-timing", "general-network")] == [
        ("general-timing", "moved")]


def test_identical_revisions_have_no_changes() -> None:
    result, _old, _new = case_diff("identical")
    assert result.changes == () and result.renumbered == ()
    assert format_text(result).endswith("no changes\n")


def test_text_format_colours_on_request() -> None:
    result, _old, _new = case_diff("every-kind")
    painted = format_text(result, lambda text, role: f"<{role}>{text}</{role}>")
    assert "<insert>均</insert>" in painted and "<delete>Each</delete>" in painted
    assert "[-Each-]{+Every+}" in format_text(result)


def test_redline_html() -> None:
    result, old, new = case_diff("every-kind")
    page = redline_html(result, old, new)
    assert page.startswith("<!DOCTYPE html>")
    assert "Changes since old" in page
    assert "<ins>均</ins>" in page and "<del>Each</del>" in page
    for kind in ("added", "removed", "modified", "moved"):
        assert f"rl-{kind}" in page
    assert "\ue000" not in page and "\ue011" not in page
    assert "<script" not in page and "style-src 'sha256-" in page


def test_redline_markers_in_drafts_are_inert() -> None:
    result, old, new = case_diff("every-kind")
    scope = new["t-if"].parts[1]
    assert scope.text is not None
    sneaky = scope.text.values["en"] + "\ue000<b>x</b>\ue011"
    patched = dict(scope.text.values, en=sneaky)
    object.__setattr__(scope.text, "values", patched)
    page = redline_html(result, old, new)
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


# -- on git -------------------------------------------------------------------------------------


def repo_with_baselines(root: Path) -> Path:
    make_repo(root)
    release(root, "rfia-0101", today="2026-11-20")
    edit(root, GENERAL, "的规定发送报文", "的规定周期性地发送报文")
    edit(root, GENERAL, "Each node shall transmit", "Each node shall periodically transmit")
    commit_all(root, "periodic")
    release(root, "rfia-0101", today="2026-11-27")
    edit(root, MESSAGES, "        max: 1000\n", "        max: 800\n")
    commit_all(root, "range")
    release(root, "rfia-0101", today="2026-12-04")
    return root


def test_baselines_and_defaults(tmp_path: Path) -> None:
    root = repo_with_baselines(tmp_path / "r")
    found = compare(root, "rfia-0101@working-draft.1", "rfia-0101@working-draft.3")
    assert [(c.id, c.change, c.fields) for c in found.result.changes] == [
        ("REQ-GEN-1", "modified", ("text",)), ("SIG-EXAMPLE-VOLTAGE", "modified", ("max",))]
    assert found.result.old_commit == git(root, "rev-list", "-n1", "rfia-0101/working-draft.1"
                                          ).strip()
    # by tag name, too
    same = compare(root, "rfia-0101/working-draft.1", "rfia-0101/working-draft.3")
    assert same.result.changes == found.result.changes
    # default: HEAD against the working tree
    assert compare(root).result.changes == ()
    edit(root, MESSAGES, "        max: 800\n", "        max: 900\n")
    now = compare(root)
    assert (now.result.old, now.result.new) == ("HEAD", "working tree")
    assert [c.id for c in now.result.changes] == ["SIG-EXAMPLE-VOLTAGE"]
    assert compare(root, "HEAD", "HEAD").result.changes == ()
    with pytest.raises(UsageError, match="no standard 'rfia-0999'"):
        compare(root, standard="rfia-0999")


def test_cli_formats_and_out(tmp_path: Path, invoke: Any) -> None:
    root = repo_with_baselines(tmp_path / "r")
    result = invoke("diff", "rfia-0101@working-draft.1", "rfia-0101@working-draft.3",
                    "--format", "json", cwd=root)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [(c["id"], c["old_number"], c["new_number"]) for c in doc["changes"]] == [
        ("REQ-GEN-1", "4", "4"), ("SIG-EXAMPLE-VOLTAGE", "5", "5")]
    result = invoke("diff", "rfia-0101@working-draft.2", "rfia-0101@working-draft.3",
                    "--standard", "rfia-0101", cwd=root)
    assert "max: 1000 → 800" in result.stdout
    out = tmp_path / "changes.html"
    result = invoke("diff", "rfia-0101@working-draft.1", "rfia-0101@working-draft.3",
                    "--format", "html", "--out", str(out), cwd=root)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Changes since rfia-0101@working-draft.1" in page and "<ins>周期性地</ins>" in page
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".changes")] == []
    result = invoke("diff", "rfia-0101@working-draft.1", "--format", "rst", cwd=root)
    assert ".. role:: ins" in result.stdout and ":del:`1000`" in result.stdout


@pytest.mark.parametrize("text", [*HOSTILE[:5], "rfia-0101@working-draft.9", "nosuchtag"])
def test_cli_hostile_revisions(text: str, tmp_path: Path, invoke: Any) -> None:
    root = make_repo(tmp_path / "r")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    target = Path("/tmp/x")
    existed = target.exists()
    for args in ([text], ["HEAD", text], [text, "--out", str(tmp_path / "o.html")]):
        result = invoke("diff", *args, cwd=root)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("stdkit: "), result.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert target.exists() == existed
