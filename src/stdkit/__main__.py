"""Allow ``python -m stdkit``."""

from __future__ import annotations

from stdkit.cli import main

main()
