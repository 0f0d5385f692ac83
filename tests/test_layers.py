"""The package's import rules, read from the source with ``ast``.

- No module inside the package imports the package root (``from consentkit import ...``,
  ``from .. import ...`` reaching the root, ``import consentkit``): the root's ``__init__`` imports
  them, so such an import works only by the order of its lines.
- No module imports a private name (a module or an attribute starting with ``_``) of another
  package: reaching into ``other._module._name`` means ``other`` is missing a public function.
  Private modules of the package root (``consentkit._files``, ``consentkit._version`` ...) are the
  whole library's shared infrastructure and may be imported from anywhere inside it; a package
  may import its own private modules and those of the packages above it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "consentkit"


def _modules() -> Iterator[tuple[str, Path, bool]]:
    """(dotted module name, path, is a package ``__init__``) of every module of the package."""
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        yield ".".join(parts), path, is_package


def _imports(module: str, path: Path, is_package: bool) -> Iterator[tuple[int, str, str | None]]:
    """(line, absolute module imported from, name imported or ``None`` for ``import x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                yield node.lineno, source, alias.name


def _package_of(module: str, is_package: bool) -> str:
    return module if is_package else module.rsplit(".", 1)[0]


def _is_module(dotted: str) -> bool:
    relative = Path(*dotted.split("."))
    return (ROOT / relative.with_suffix(".py")).is_file() or (ROOT / relative / "__init__.py").is_file()


def _private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def _allowed_in(dotted: str) -> tuple[str, bool] | None:
    """Where importing ``dotted`` is allowed: ``(package, also below it)``, or ``None`` when it is
    public. A private module is shared with its package and every package below it; a private
    attribute of a module only with the module's own package."""
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if not _private(part):
            continue
        prefix = ".".join(parts[: index + 1])
        if _is_module(prefix):
            return ".".join(parts[:index]), True
        module = ".".join(parts[:index])
        if (ROOT / Path(*parts[:index]) / "__init__.py").is_file():
            return module, False
        return module.rsplit(".", 1)[0], False
    return None


def test_no_module_imports_the_package_root() -> None:
    found = []
    for module, path, is_package in _modules():
        if module == PACKAGE:
            continue
        for line, source, name in _imports(module, path, is_package):
            if source == PACKAGE and (name is None or not _is_submodule(name)):
                found.append(f"{path.relative_to(ROOT)}:{line}: imports {name} from the package root")
    assert not found, "\n".join(found)


def _is_submodule(name: str) -> bool:
    return (ROOT / PACKAGE / f"{name}.py").is_file() or (ROOT / PACKAGE / name / "__init__.py").is_file()


def test_no_module_imports_a_private_name_of_another_package() -> None:
    found = []
    for module, path, is_package in _modules():
        here = _package_of(module, is_package)
        for line, source, name in _imports(module, path, is_package):
            if not source.startswith(PACKAGE):
                continue
            dotted = f"{source}.{name}" if name and name != "*" else source
            allowed = _allowed_in(dotted)
            if allowed is None:
                continue
            owner, below = allowed
            if here == owner or (below and here.startswith(owner + ".")):
                continue
            found.append(f"{path.relative_to(ROOT)}:{line}: imports {dotted}, private to {owner}")
    assert not found, "\n".join(found)
