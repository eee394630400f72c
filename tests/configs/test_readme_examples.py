"""The README's configuration examples run as a user would write them: the
method config of "Configs" and the fusion module and config of "Adding a
module" are taken from the README's text, built and trained for two tiny
epochs."""
import re
import sys

import pytest

from conftest import REPO, tiny_options, train_in_process

pytestmark = pytest.mark.e2e


def _section_blocks(title: str) -> list:
    text = (REPO / 'README.md').read_text(encoding='utf-8')
    start = text.index(f'### {title}\n')
    end = text.find('\n## ', start)
    nxt = text.find('\n### ', start + 1)
    end = min(e for e in (end, nxt, len(text)) if e > 0)
    return re.findall(r'```python\n(.*?)```', text[start:end], re.S)


def _as_config(block: str, folder) -> str:
    """The README block with its relative ``_base_`` made absolute."""
    block = block.replace("'../", f"'{REPO / 'configs'}/")
    path = folder / 'readme_example.py'
    path.write_text(block, encoding='utf-8')
    return path


# 60 tiny samples for 10 x 10 x 10 cells: the estimator warns, as it should.
@pytest.mark.filterwarnings('ignore:modality_information:UserWarning')
def test_the_method_config_example_trains(tiny_root, tmp_path):
    (block, ) = _section_blocks('Configs')
    config = _as_config(block, tmp_path)
    train_in_process(config, tmp_path / 'work', '--cfg-options',
                     *tiny_options(tiny_root, epochs=2),
                     'custom_hooks.0.warmup_epochs=1')
    log = next((tmp_path / 'work').rglob('*.log')).read_text()
    assert 'ARM valuation after epoch 1' in log


def test_the_new_module_example_trains(tiny_root, tmp_path, monkeypatch):
    module, config_block = _section_blocks('Adding a module')
    package = tmp_path / 'my_project'
    package.mkdir()
    (package / '__init__.py').write_text('')
    (package / 'my_fusion.py').write_text(module, encoding='utf-8')
    monkeypatch.syspath_prepend(str(tmp_path))
    config = _as_config(config_block, tmp_path)
    train_in_process(config, tmp_path / 'work', '--cfg-options',
                     *tiny_options(tiny_root, epochs=1))
    fusion = sys.modules['my_project.my_fusion'].BilinearFusion
    assert fusion.__mro__[1].__name__ == 'BaseFusion'
    assert list((tmp_path / 'work').glob('epoch_1.pth'))
