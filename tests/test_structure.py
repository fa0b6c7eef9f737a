"""The code's shape: no import cycle between the project's modules, and the apps' layering
(ARCHITECTURE.md, "Who may import whom") as the import-linter contracts in pyproject.toml."""

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from collections import deque
from pathlib import Path
from typing import NamedTuple

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent

# Every package of the project but `tests`: the apps of the layers contract, and the bench harness.
PACKAGES = (
    "portail",
    "billing",
    "reservations",
    "enrolment",
    "exchanges",
    "families",
    "accounts",
    "common",
    "bench",
)


def import_graph(packages):
    """grimp's graph of `packages` and {module: modules of the packages it imports}: imports inside
    functions and under `if TYPE_CHECKING` count, `from pkg import name` is `pkg.name` when that
    is a module, and a package's `__init__` is a module of its own (named as the package). A
    module importing itself (`from . import name` in an `__init__`) is no cycle: left out."""
    graph = grimp.build_graph(*packages, include_external_packages=False, cache_dir=None)
    imports = {
        module: graph.find_modules_directly_imported_by(module) - {module}
        for module in graph.modules
    }
    return graph, imports


class ImportCycles(NamedTuple):
    component: list[str]  # the modules of one strongly connected component, sorted
    cycles: list[list[str]]  # each from its first module back to it: [a, b, a]
    where: dict[tuple[str, str], list[str]]  # (importer, imported): ["line 12: from … import …"]


def strongly_connected_components(graph):
    """Tarjan's algorithm (iterative): the components of `graph` with more than one module, each
    as a sorted list. A module is in a cycle exactly when its component has more than one."""
    index, lowlink, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        index[start] = lowlink[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(graph[start])))]
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = lowlink[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def _shortest_cycle_through(graph, module, component):
    """The shortest import path from `module` back to itself inside its component."""
    members = set(component)
    previous = {}
    queue = deque([module])
    while queue:
        current = queue.popleft()
        for successor in sorted(graph[current] & members):
            if successor == module:
                path = [module]
                while current != module:
                    path.append(current)
                    current = previous[current]
                return [module, *reversed(path[1:]), module]
            if successor not in previous:
                previous[successor] = current
                queue.append(successor)
    raise AssertionError(f"{module} is in no cycle of {component}")  # pragma: no cover


def find_cycles(packages):
    """Every import cycle between modules of `packages`: one ImportCycles per strongly connected
    component, with, for each of its modules, the shortest cycle through it (each cycle once),
    so that every module and every import that keeps the component together shows."""
    graph, imports = import_graph(packages)
    found = []
    for component in strongly_connected_components(imports):
        cycles = []
        for module in component:
            cycle = _shortest_cycle_through(imports, module, component)[:-1]
            # The same cycle seen from another of its modules: keep it once, from its first module.
            first = cycle.index(min(cycle))
            cycle = [*cycle[first:], *cycle[:first], min(cycle)]
            if cycle not in cycles:
                cycles.append(cycle)
        where = {
            (importer, imported): [
                f"line {detail['line_number']}: {detail['line_contents']}"
                for detail in graph.get_import_details(importer=importer, imported=imported)
            ]
            for cycle in cycles
            for importer, imported in zip(cycle, cycle[1:], strict=False)
        }
        found.append(ImportCycles(component, cycles, where))
    return found


def describe_cycles(found):
    lines = []
    for component, cycles, where in found:
        lines.append(f"{len(component)} modules import one another: {', '.join(component)}")
        for cycle in cycles:
            lines.append(f"  {' -> '.join(cycle)}")
            for importer, imported in zip(cycle, cycle[1:], strict=False):
                lines.extend(
                    f"      {importer} -> {imported}, {line}" for line in where[importer, imported]
                )
    return "\n".join(lines)


def run_lint_imports(directory, extra_path=None):
    """`lint-imports` in `directory` (it reads the pyproject.toml there), as `make lint` and CI
    run it: (exit code, output)."""
    script = Path(sys.executable).with_name("lint-imports")
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [str(script) if script.exists() else "lint-imports", "--no-cache"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(value)


def _write_package(root, name, modules):
    package = root / name
    package.mkdir()
    for module, source in modules.items():
        (package / f"{module}.py").write_text(textwrap.dedent(source))


# --- the project --------------------------------------------------------------------------------


def test_no_import_cycle_between_the_projects_modules():
    """No module of the project's packages imports, even indirectly, a module that imports it."""
    found = find_cycles(PACKAGES)
    if found:
        pytest.fail(
            "Import cycles (break an import in each):\n" + describe_cycles(found), pytrace=False
        )


def test_import_linter_contracts_are_kept():
    """`lint-imports` keeps every contract of pyproject.toml: the apps' layers, one way."""
    code, output = run_lint_imports(ROOT)
    assert code == 0, output


# --- the checks themselves catch what they should ---------------------------------------------


def test_find_cycles_reports_a_cycle_through_an_import_inside_a_function(tmp_path, monkeypatch):
    """a -> b at module level, b -> a only inside a function, c -> a under TYPE_CHECKING and
    a -> c: both cycles are reported, `from pkg import name` resolved to the module pkg.name."""
    _write_package(
        tmp_path,
        "probe_cycle_one",
        {
            "__init__": "",
            "a": """
                from typing import TYPE_CHECKING

                from probe_cycle_two import b
                import probe_cycle_one.c
            """,
            "c": """
                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from probe_cycle_one.a import TYPE_CHECKING as _
            """,
            "alone": "import probe_cycle_two.b\n",
        },
    )
    _write_package(
        tmp_path,
        "probe_cycle_two",
        {
            "__init__": "",
            "b": """
                def late():
                    from probe_cycle_one import a

                    return a
            """,
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    found = find_cycles(["probe_cycle_one", "probe_cycle_two"])

    assert [(cycles.component, cycles.cycles) for cycles in found] == [
        (
            ["probe_cycle_one.a", "probe_cycle_one.c", "probe_cycle_two.b"],
            [
                ["probe_cycle_one.a", "probe_cycle_one.c", "probe_cycle_one.a"],
                ["probe_cycle_one.a", "probe_cycle_two.b", "probe_cycle_one.a"],
            ],
        )
    ]
    description = describe_cycles(found)
    assert "probe_cycle_one.a -> probe_cycle_two.b -> probe_cycle_one.a" in description
    assert (
        "probe_cycle_two.b -> probe_cycle_one.a, line 3: from probe_cycle_one import a"
        in description
    )


def test_find_cycles_is_quiet_without_a_cycle(tmp_path, monkeypatch):
    """Imports that go one way (a package's __init__ importing its modules) report nothing."""
    _write_package(
        tmp_path,
        "probe_acyclic",
        {
            "__init__": "from probe_acyclic import a\n",
            "a": "from probe_acyclic import b\n",
            "b": "",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    assert find_cycles(["probe_acyclic"]) == []


def test_the_layers_contract_fails_on_an_import_the_wrong_way(tmp_path):
    """pyproject.toml's own contracts, applied to stand-in apps (same names with a prefix) where
    `common` imports `billing` inside a function: lint-imports fails and names that import."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    apps = config["root_packages"]

    def probe(name):
        return f"probe_layer_{name}"

    for app in apps:
        _write_package(tmp_path, probe(app), {"__init__": ""})
    (tmp_path / probe("billing") / "invoicing.py").write_text("")
    (tmp_path / probe("common") / "mail.py").write_text(
        f"def send():\n    from {probe('billing')} import invoicing\n\n    return invoicing\n"
    )

    def rename(value):
        if isinstance(value, list):
            return [rename(item) for item in value]
        return probe(value) if value in apps else value

    lines = ["[tool.importlinter]"]
    lines += [
        f"{key} = {_toml(rename(value))}" for key, value in config.items() if key != "contracts"
    ]
    for contract in config["contracts"]:
        lines.append("\n[[tool.importlinter.contracts]]")
        lines += [f"{key} = {_toml(rename(value))}" for key, value in contract.items()]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n")

    code, output = run_lint_imports(tmp_path, extra_path=tmp_path)

    assert code != 0, output
    assert "BROKEN" in output, output
    assert f"{probe('common')}.mail -> {probe('billing')}.invoicing" in output, output
