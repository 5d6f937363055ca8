"""No import cycles among econ's modules, counting imports anywhere in a file (function-level ones too).

Self-contained (the logic of the project's ``tools/import_cycles.py`` check): every ``import``/``from ... import``
in every module is an edge to the econ module it names (the longest known prefix); a package ``__init__``
re-exporting its own children is not an edge. Any strongly connected group of more than one module fails.
"""

import ast
from pathlib import Path

import econ

ROOT = Path(econ.__file__).resolve().parent


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, mod: str, is_pkg: bool, known: set) -> set:
    pkg = mod if is_pkg else mod.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            while n and n not in known:
                n = n.rpartition(".")[0]
            if n and n != mod:
                out.add(n)
    return out


def _graph() -> dict:
    files = {_name(p): p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts}
    graph = {}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        deps = _imports(path, mod, is_pkg, set(files))
        graph[mod] = {d for d in deps if not d.startswith(mod + ".")} if is_pkg else deps
    return graph


def _cycles(graph: dict) -> list:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_the_check_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_results_no_longer_imports_the_simulator():
    graph = _graph()
    assert "econ.simulate" not in graph["econ.results"]
    assert not any("econ.results" in c for c in _cycles(graph))


def test_no_import_cycles_in_econ():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (function-level imports counted): " + "; ".join(" <-> ".join(c) for c in cycles)
