"""The stage table (DESIGN.md §7): stage ids in order, with their code and names."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from stdkit import yamlio


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of a standard's life: ``working-draft`` is code 20, 工作组讨论稿."""

    id: str
    code: str
    names: dict[str, str]

    def name(self, lang: str) -> str:
        """The stage's name in ``lang`` (English where that language has none)."""
        return self.names.get(lang) or self.names["en"]

    @property
    def order(self) -> int:
        return int(self.code)


@cache
def stages() -> dict[str, Stage]:
    """Every stage by id, in the order a standard passes through them."""
    text = resources.files("stdkit").joinpath("data", "stages.yaml").read_text("utf-8")
    data = yamlio.parse(text, "stages.yaml").data
    return {
        str(sid): Stage(str(sid), str(code), {"zh": str(zh), "en": str(en)})
        for sid, (code, zh, en) in data.items()
    }
