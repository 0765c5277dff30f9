"""Layers you can see in the tree: no import circle and no reach into another module's privates.

Measured from the source alone (``ast``; no triad code is imported or run): every
``import`` and ``from ... import`` counts, also one inside a function (a lazy import still
ties the two modules together), and relative imports are resolved.  The same facts as
``../shared/tools/layering.py src triad`` reports (``cycles``, ``private_imports``).
"""

import ast
import functools
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_name(src: Path, path: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(src: Path, package: str) -> tuple[dict[str, set[str]], list[str]]:
    """Return the package's module import graph and its imports of other modules' privates.

    Parameters
    ----------
    src : Path
        The folder holding the package's folder.
    package : str
        The package's name.

    Returns
    -------
    (dict, list)
        Module -> the package's modules it imports (anywhere in the file), and
        ``"importer -> module._name"`` for every private name (one leading underscore)
        imported from another of the package's modules.
    """
    files = {_module_name(src, p): p for p in sorted((src / package).rglob("*.py"))}
    edges: dict[str, set[str]] = {m: set() for m in files}
    private = []
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        here = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(tree):
            found: list[tuple[str, str | None]] = []
            if isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    # the deepest of the package's modules the dotted name names
                    target = next((".".join(parts[:i]) for i in range(len(parts), 0, -1)
                                   if ".".join(parts[:i]) in files), None)
                    if target:
                        found.append((target, None))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.append((sub if sub in files else base, alias.name))
            for target, name in found:
                if target not in files or target == module:
                    continue
                edges[module].add(target)
                if name and name.startswith("_") and not name.startswith("__"):
                    private.append(f"{module} -> {target}.{name}")
    return edges, private


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative).

    A package and its own submodules alone (an ``__init__`` re-exporting what its
    submodules import from it) do not count, as in ``layering.py``.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                component.sort()
                head = component[0]
                if len(component) > 1 and not all(m.startswith(head + ".")
                                                   for m in component[1:]):
                    found.append(component)
    return found


def _describe(component: list[str], edges: dict[str, set[str]]) -> str:
    inside = [f"  {a} -> {b}" for a in component for b in sorted(edges[a]) if b in component]
    return ", ".join(component) + "\n" + "\n".join(inside)


@functools.cache
def _triad() -> tuple[dict[str, set[str]], list[str]]:
    return import_graph(SRC, "triad")


def test_no_import_circle():
    edges, _ = _triad()
    assert len(edges) > 30  # the package was found and read
    found = circles(edges)
    assert not found, "import circle(s), lazy imports included:\n" + "\n".join(
        _describe(c, edges) for c in found)


def test_no_import_of_another_modules_private_name():
    _, private = _triad()
    assert not private, "private names imported from another module (make them public " \
        "where they belong):\n" + "\n".join(private)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checks_flag_a_circle_and_a_private_import(tmp_path):
    _write(tmp_path / "pkg", {
        "__init__.py": "from pkg.low import helper\n",
        "low.py": "def helper():\n    from pkg.high import run  # lazy: still an edge\n",
        "high.py": "from .low import helper\nfrom .sub.deep import _secret\n",
        "sub/__init__.py": "",
        "sub/deep.py": "from .. import low\n\n_secret = 1\n",
        "free.py": "import pkg.sub.deep\nfrom pkg.sub import deep\n",
    })
    edges, private = import_graph(tmp_path, "pkg")
    assert edges["pkg.low"] == {"pkg.high"}
    assert edges["pkg.high"] == {"pkg.low", "pkg.sub.deep"}
    assert edges["pkg.sub.deep"] == {"pkg.low"}  # relative import two levels up
    assert edges["pkg.free"] == {"pkg.sub.deep"}
    assert private == ["pkg.high -> pkg.sub.deep._secret"]
    assert circles(edges) == [["pkg.high", "pkg.low", "pkg.sub.deep"]]
    message = _describe(circles(edges)[0], edges)
    assert "pkg.low -> pkg.high" in message and "pkg.sub.deep -> pkg.low" in message


def test_the_checks_pass_a_one_way_package(tmp_path):
    _write(tmp_path / "pkg", {
        # a package re-exporting its submodule is no design circle
        "__init__.py": "from pkg.top import run\n",
        "base.py": "_own = 1\n\ndef public():\n    return _own\n",
        "top.py": "import pkg\nfrom pkg.base import public\n\ndef run():\n    return public()\n",
    })
    edges, private = import_graph(tmp_path, "pkg")
    assert edges["pkg.top"] == {"pkg", "pkg.base"}
    assert circles(edges) == [] and private == []
