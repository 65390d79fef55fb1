"""No import cycles in gan_course, function-level imports included: a lesson's module imports only modules below it."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]/'gan_course'
MODULES = {p.stem for p in PACKAGE.glob('*.py') if p.stem != '_modidx'}


def imported_modules(path:Path) -> set:
    "The gan_course modules that the module at `path` imports anywhere in its code (top level or inside functions)."
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            name = node.module or ''
            if node.level == 1: found |= {name.split('.')[0]} if name else {a.name for a in node.names}
            elif name.startswith('gan_course.'): found.add(name.split('.')[1])
            elif name == 'gan_course': found |= {a.name for a in node.names}
        elif isinstance(node, ast.Import): found |= {a.name.split('.')[1] for a in node.names if a.name.startswith('gan_course.')}
    return found & MODULES


def import_graph() -> dict: return {m: imported_modules(PACKAGE/f'{m}.py') - {m} for m in MODULES}


def cycles(graph:dict) -> list:
    "Every import cycle of `graph` (module -> the modules it imports), each as the path that closes it."
    found, done = [], set()
    def visit(module, path):
        for nxt in sorted(graph[module]):
            if nxt in path: found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in done: visit(nxt, path + [nxt])
        done.add(module)
    for m in sorted(graph): visit(m, [m])
    return found


def test_the_checker_finds_a_cycle():
    assert cycles({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) and not cycles({'a': {'b'}, 'b': {'c'}, 'c': set()})


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def top_level_imports(name:str) -> set:
    "What module `name` of gan_course imports at its top level: standard-library names, and package modules as '.name' ('.' for the package itself)."
    found = set()
    for node in ast.parse((PACKAGE/f'{name}.py').read_text()).body:
        if isinstance(node, ast.ImportFrom): found.add('.' + (node.module or '') if node.level else node.module)
        elif isinstance(node, ast.Import): found |= {a.name for a in node.names}
    return found


def test_the_front_door_and_the_commands_import_no_torch():
    "`gan_course.__main__` and `gan_course.commands` import, at their top level, only the standard library, the package itself and `commands`."
    assert top_level_imports('commands') <= {'argparse', '.'}
    assert top_level_imports('__main__') <= {'os', 'sys', '.commands'}
