"""domain/, store/ and probes/ never import textual; neither does the service layer at import time."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "warroom"
TEXTUAL_FREE = ("domain", "store", "probes")


def textual_imports(path: Path) -> list[str]:
    """'file:line import' for every import of textual (or a textual submodule) in one file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"{path.name}:{node.lineno} {name}" for name in names if name.split(".")[0] == "textual"]
    return found


def test_the_checker_finds_textual_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nimport textual.app\nfrom textual import on\nfrom textual.widgets import Log\n"
                      "def f():\n    import textual\nfrom .textual import x\nimport textualize\n")
    assert textual_imports(sample) == ["sample.py:2 textual.app", "sample.py:3 textual",
                                       "sample.py:4 textual.widgets", "sample.py:6 textual"]


def test_domain_store_and_probes_sources_never_import_textual():
    files = [path for layer in TEXTUAL_FREE for path in sorted((PACKAGE / layer).rglob("*.py"))]
    assert len(files) > 15  # the walk really found the layers
    offenders = [hit for path in files for hit in textual_imports(path)]
    assert offenders == []


def test_importing_the_lower_layers_does_not_load_textual():
    code = (
        "import json, sys\n"
        "import warroom.domain, warroom.store, warroom.probes, warroom.service, warroom.config\n"
        "import pkgutil, importlib\n"
        "for package in (warroom.domain, warroom.store, warroom.probes):\n"
        "    for module in pkgutil.iter_modules(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
