"""stdkit: draft formal standards as versioned YAML clauses."""

from __future__ import annotations

__version__ = "0.1.0"
