"""The layers: `ui | cli > service > store | probes > domain`.

A module may import its own layer and the layers below it, never a layer above, and the two
layers that share a level (`ui` and `cli`; `store` and `probes`) never import each other; the one
exception is the CLI (`warroom.cli` and its command modules `warroom.cli_*`, one layer) starting
the UI through `warroom.ui.launch`. `ui/` never imports `store/`
(it goes through the service). Every import counts, also the ones inside functions. Below the UI
nothing imports textual, and importing those layers does not load it either.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "warroom"

# Layer of each top-level part of the package, and its level (higher may import lower).
LAYERS = {"__main__": 4, "ui": 3, "cli": 3, "service": 2, "store": 1, "probes": 1, "domain": 0}
ALLOWED_SIDEWAYS = {("cli", "warroom.ui.launch")}
FORBIDDEN_DOWNWARDS = {("ui", "store")}  # the UI reads and writes only through the service
TEXTUAL_FREE = ("domain", "store", "probes", "service")


def layer_of(module: str) -> str | None:
    """'warroom.store.queries' -> 'store', 'warroom.cli_record' -> 'cli'; 'warroom' itself and
    non-warroom modules -> None."""
    parts = module.split(".")
    if parts[0] != "warroom" or len(parts) < 2:
        return None
    return "cli" if parts[1].startswith("cli_") else parts[1]


def module_name(path: Path, root: Path = PACKAGE) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in one file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            if module == "warroom":  # `from warroom import store` imports the store layer
                found += [(node.lineno, f"warroom.{alias.name}") for alias in node.names]
    return found


def violations(root: Path = PACKAGE) -> list[str]:
    """'file:line: layer imports module (layer)' for every import that breaks the layers."""
    found = []
    for path in sorted(root.rglob("*.py")):
        source = layer_of(module_name(path, root))
        if source not in LAYERS:
            continue
        for line, module in imports_of(path, root):
            target = layer_of(module)
            if target is None or target == source or (source, module) in ALLOWED_SIDEWAYS:
                continue
            if target not in LAYERS:
                found.append(f"{path.relative_to(root.parent)}:{line}: {source} imports {module} (no layer)")
            elif LAYERS[target] >= LAYERS[source] or (source, target) in FORBIDDEN_DOWNWARDS:
                found.append(f"{path.relative_to(root.parent)}:{line}: {source} imports {module} ({target})")
    return found


def textual_imports(path: Path) -> list[str]:
    """'file:line import' for every import of textual (or a textual submodule) in one file."""
    return [f"{path.name}:{line} {name}" for line, name in imports_of(path, path.parent)
            if name.split(".")[0] == "textual"]


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "warroom"
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for folder in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()
    return root


def test_the_checker_finds_every_kind_of_upward_or_sideways_import(tmp_path):
    root = _package(tmp_path, {
        "ui/app.py": "from warroom.service import IncidentService\n"  # fine: ui > service
                     "def f():\n    from warroom.store import queries\n",  # ui must not reach the store
        "ui/widgets/x.py": "from ...store import database\n",  # relative, still the store
        "service/a.py": "from warroom.store import queries\nimport warroom.ui.app\n",  # ui is above
        "store/b.py": "from warroom.probes import config\n",  # sideways
        "probes/c.py": "from warroom import service\nfrom warroom.domain import clock\n",
        "domain/d.py": "import textual\nfrom warroom.domain.clock import UTC\n",
        "cli.py": "from warroom.ui import app\nfrom warroom.ui.launch import launch\n",  # only launch may
        "cli_x.py": "from warroom.cli import cli\nfrom warroom.ui import app\n",  # a CLI module: the same layer
        "loose.py": "x = 1\n",
        "domain/e.py": "from warroom import loose\n",  # a module in no layer
    })
    assert violations(root) == [
        "warroom/cli.py:1: cli imports warroom.ui (ui)",
        "warroom/cli_x.py:2: cli imports warroom.ui (ui)",
        "warroom/domain/e.py:1: domain imports warroom.loose (no layer)",
        "warroom/probes/c.py:1: probes imports warroom.service (service)",
        "warroom/service/a.py:2: service imports warroom.ui.app (ui)",
        "warroom/store/b.py:1: store imports warroom.probes (probes)",
        "warroom/ui/app.py:3: ui imports warroom.store (store)",
        "warroom/ui/widgets/x.py:1: ui imports warroom.store (store)",
    ]
    assert textual_imports(root / "domain" / "d.py") == ["d.py:1 textual"]


def test_the_package_keeps_its_layers():
    assert len(list(PACKAGE.rglob("*.py"))) > 40  # the walk really found the package
    assert violations() == []


def test_ui_never_imports_the_store():
    ui_files = sorted((PACKAGE / "ui").rglob("*.py"))
    assert ui_files
    hits = [f"{path.name}:{line} {module}" for path in ui_files for line, module in imports_of(path)
            if module.startswith("warroom.store")]
    assert hits == []


def test_domain_store_probes_and_service_sources_never_import_textual():
    files = [path for layer in TEXTUAL_FREE for path in sorted((PACKAGE / layer).rglob("*.py"))]
    assert len(files) > 20
    assert [hit for path in files for hit in textual_imports(path)] == []


def test_importing_the_lower_layers_does_not_load_textual():
    code = (
        "import json, sys, pkgutil, importlib\n"
        "import warroom.domain, warroom.store, warroom.probes, warroom.service\n"
        "for package in (warroom.domain, warroom.store, warroom.probes, warroom.service):\n"
        "    for module in pkgutil.iter_modules(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
