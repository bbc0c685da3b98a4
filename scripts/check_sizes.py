"""make lint: no module over 400 lines and no function over 60 lines in the backend package."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "backend" / "payment_backend"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def offences(path: Path) -> list[str]:
    """What in one module is too long, as 'path:line: message'."""
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(ROOT.parent)
    found = []
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{name}:1: module has {lines} lines (at most {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{name}:{node.lineno}: {node.name}() has {length} lines "
                    f"(at most {MAX_FUNCTION_LINES})"
                )
    return found


def main() -> int:
    """Print every offence; exit 1 if there is any."""
    found = [o for path in sorted(ROOT.rglob("*.py")) for o in offences(path)]
    for offence in found:
        print(offence)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
