"""tools/robustness.py and tools/analysis/robustness_results.py end to end
on a tiny model (1 epoch, width-4 encoders, tiny AV-Digits), and the
modality-dropout train pipeline."""
import csv
import json

import numpy as np
import pytest
from mmengine.config import Config

from conftest import (REPO, TINY_BUILD, load_tool, run_tool, tiny_options,
                      train_in_process)

from armlab.registry import DATASETS
from armlab.utils.scalars import load_scalars

pytestmark = pytest.mark.e2e

CONFIG = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'
DROPOUT = REPO / 'configs' / 'modality_dropout' / \
    'modality_dropout_resnet18_avdigits.py'


def tool(path):
    """A tool script as a module, to call its main() in-process (saves the
    start-up of a subprocess; the CLI itself is run once below)."""
    return load_tool(path)


@pytest.fixture(scope='module')
def trained(tiny_root, tmp_path_factory):
    work = tmp_path_factory.mktemp('joint')
    train_in_process(CONFIG, work, '--cfg-options',
                     *tiny_options(tiny_root, epochs=1))
    return work


@pytest.fixture(scope='module')
def val_metrics(trained):
    """What the runner logged for the checkpoint on the validation split."""
    return [r for r in load_scalars(trained) if 'accuracy/top1' in r][-1]


def sweep(trained, tiny_root, work, *args):
    tool(REPO / 'tools' / 'robustness.py').main(
        [str(CONFIG), str(trained / 'epoch_1.pth'), '--split', 'val',
         '--work-dir', str(work), *args, '--cfg-options',
         *tiny_options(tiny_root, epochs=1)])
    return json.loads((work / 'robustness.json').read_text())


def test_rmm_sweep_writes_tables_and_starts_at_clean_accuracy(
        trained, tiny_root, val_metrics, tmp_path):
    work = tmp_path / 'rmm'
    proc = run_tool('tools/robustness.py', CONFIG, trained / 'epoch_1.pth',
                    '--protocol', 'RMM', '--rates', '0:1:0.5', '--split',
                    'val', '--work-dir', work, '--cfg-options',
                    *tiny_options(tiny_root, epochs=1))
    assert 'AUILC' in proc.stdout
    result = json.loads((work / 'robustness.json').read_text())
    rows = result['rows']
    assert [r['level'] for r in rows] == [0.0, 0.5, 1.0]
    assert result['num_samples'] == TINY_BUILD['num_val']
    # Rate 0 is exactly the runner's validation of the same checkpoint.
    for key in ('accuracy/top1', 'f1/macro'):
        assert rows[0][key] == val_metrics[key]
    levels = [r['level'] for r in rows]
    acc = [r['accuracy/top1'] for r in rows]
    assert result['summary']['AUILC'] == pytest.approx(
        np.trapezoid(acc, levels) if hasattr(np, 'trapezoid')
        else np.trapz(acc, levels))
    with open(work / 'robustness.csv') as f:
        lines = list(csv.DictReader(f))
    assert [float(r['point']) for r in lines] == levels
    assert (work / 'robustness.png').read_bytes()[:4] == b'\x89PNG'
    assert '| 0 | 0.5 | 1 | AUILC |' in (work / 'robustness.md').read_text()


def test_smm_rows_are_the_masked_heads(trained, tiny_root, val_metrics,
                                       tmp_path):
    result = sweep(trained, tiny_root, tmp_path / 'smm', '--protocol', 'SMM')
    acc = {r['present']: r['accuracy/top1'] for r in result['rows']}
    assert list(acc) == ['audio', 'visual', 'audio+visual']
    # Only m present through the model's fill = the masked head of m (the
    # metric computes that one in float32: equal up to rounding).
    assert acc['audio'] == pytest.approx(val_metrics['acc_audio_mask'])
    assert acc['visual'] == pytest.approx(val_metrics['acc_visual_mask'])
    assert acc['audio+visual'] == val_metrics['accuracy/top1']


def test_corruption_sweep_with_reference_and_mean_fill(
        trained, tiny_root, tmp_path):
    few = ('--max-samples', '8')
    first = sweep(trained, tiny_root, tmp_path / 'ref', '--corruption',
                  'awgn', '--modality', 'audio', '--levels', '0,1', *few)
    assert first['num_samples'] == 8
    again = sweep(trained, tiny_root, tmp_path / 'again', '--corruption',
                  'awgn', '--modality', 'audio', '--levels', '0,1', *few,
                  '--reference', str(tmp_path / 'ref'), '--label', 'again')
    assert again['rows'] == first['rows']  # seeded corruption
    assert again['summary']['ER'] == 0.0  # against itself
    assert 'ER' in (tmp_path / 'again' / 'robustness.md').read_text()
    with pytest.raises(ValueError, match='max_samples'):  # not comparable
        sweep(trained, tiny_root, tmp_path / 'other', '--corruption', 'awgn',
              '--modality', 'audio', '--levels', '0,1', '--max-samples', '4',
              '--reference', str(tmp_path / 'ref'))
    # The mean fill is computed on train samples once and cached.
    sweep(trained, tiny_root, tmp_path / 'mean', '--protocol', 'RMFM',
          '--rates', '1', '--fill', 'audio=mean', 'visual=zero', *few)
    cached = np.load(tmp_path / 'mean' / 'fill_mean_audio.npy')
    assert cached.shape == (64, 51) and np.abs(cached).max() > 0
    with pytest.raises(ValueError, match='learned'):
        sweep(trained, tiny_root, tmp_path / 'learned', '--protocol', 'RMM',
              '--fill', 'learned')


def test_results_script_quick(trained, tiny_root, tmp_path):
    out = tmp_path / 'docs' / 'robustness.md'
    tool(REPO / 'tools' / 'analysis' / 'robustness_results.py').main(
        [f'joint={trained}', f'copy={trained}', '--quick', '--levels', '0,1',
         '--corruptions', 'visual:gaussian', '--max-samples', '8',
         '--split', 'val', '--out',
         str(out), '--work-root', str(tmp_path / 'runs')])
    text = out.read_text()
    for part in ('## RMM', '## visual-gaussian', 'Machine:',
                 'training seed', 'seed 1111', 'tools/robustness.py',
                 '| copy |', 'ER (norm.)'):
        assert part in text, part
    for sweep_name in ('RMM', 'visual-gaussian'):
        png = tmp_path / 'docs' / f'robustness_{sweep_name}.png'
        assert png.read_bytes()[:4] == b'\x89PNG'
        per_run = tmp_path / 'runs' / 'copy' / sweep_name / 'robustness.json'
        assert json.loads(per_run.read_text())['label'] == 'copy'


def test_modality_dropout_pipeline_drops_a_third_each(tiny_root):
    cfg = Config.fromfile(str(DROPOUT))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(data_root=str(tiny_root), build_cfg=TINY_BUILD)
    dataset = DATASETS.build(dataset_cfg)
    dataset.draw_seeds.set(seed=0, epoch=1)

    def masks():
        return [tuple(dataset[i]['data_samples'].modality_mask.tolist())
                for i in range(len(dataset))]

    first = masks()
    assert masks() == first  # reproducible per (seed, epoch, sample)
    counts = {k: first.count(k) for k in set(first)}
    assert set(counts) == {(True, True), (True, False), (False, True)}
    assert all(c >= 8 for c in counts.values())  # 1/3 each of 60
    dataset.draw_seeds.set(seed=0, epoch=2)
    assert masks() != first  # new masks every epoch
