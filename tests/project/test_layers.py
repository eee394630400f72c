"""armlab's packages form layers: each imports only from the layers below
it (registration, ``armlab.utils.setup_env``, imports them all)."""
import ast
from pathlib import Path

from conftest import REPO

#: Bottom to top. A package may import the ones before it, never after.
LAYERS = ('utils', 'fileio', 'registry', 'version', 'datasets', 'models',
          'evaluation', 'balancers', 'engine', 'visualization', 'robustness',
          'active')
#: Modules whose job is to import everything (registering the modules).
REGISTRATION = {'armlab/utils/setup_env.py'}


def upward_imports(root: Path = REPO / 'armlab') -> list:
    rank = {name: i for i, name in enumerate(LAYERS)}
    found = []
    for path in sorted(root.rglob('*.py')):
        rel = path.relative_to(root.parent).as_posix()
        layer = path.relative_to(root).parts[0].removesuffix('.py')
        if rel in REGISTRATION or layer not in rank:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or '']
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split('.')
                if parts[0] == 'armlab' and len(parts) > 1 and \
                        rank.get(parts[1], -1) > rank[layer]:
                    found.append(f'{rel}:{node.lineno} ({layer}) imports '
                                 f'{name}')
    return found


def test_every_package_is_in_a_layer():
    packages = {p.name.removesuffix('.py') for p in (REPO / 'armlab').iterdir()
                if p.name != '__init__.py' and p.name != '__pycache__'
                and (p.is_dir() or p.suffix == '.py')}
    assert packages <= set(LAYERS), packages - set(LAYERS)


def test_no_package_imports_a_layer_above_it():
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path):
    fake = tmp_path / 'armlab' / 'datasets'
    fake.mkdir(parents=True)
    (fake / 'bad.py').write_text('from armlab.balancers.arm import ARMHook\n')
    assert len(upward_imports(tmp_path / 'armlab')) == 1
