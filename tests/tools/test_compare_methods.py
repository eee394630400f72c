"""tools/analysis/compare_methods.py end to end on tiny AV-Digits: train,
test at the best-validation checkpoint, one table and plot per preset."""
import json
import re
import shutil

import pytest

from conftest import REPO, load_tool, run_tool, tiny_options
from helpers.committed_tables import produced_by, table_lines

CONFIG = REPO / 'configs' / 'joint' / 'joint_concat_resnet18_avdigits.py'


@pytest.mark.e2e
def test_compare_two_presets_and_regenerate_from_records(tiny_root, tmp_path):
    out = tmp_path / 'table.md'
    runs_dir = tmp_path / 'records'
    args = [CONFIG, '--seeds', '0', '--presets', 'audio-dominant',
            'visual-dominant', '--work-root', tmp_path / 'runs', '--out', out,
            '--probe', '--runs-dir', runs_dir, '--cfg-options',
            *tiny_options(tiny_root, epochs=1)]
    proc = run_tool('tools/analysis/compare_methods.py', *args)
    text = out.read_text()
    assert '## Preset: audio-dominant' in text
    assert '## Preset: visual-dominant' in text
    for preset in ('audio-dominant', 'visual-dominant'):
        assert (tmp_path / f'table_{preset}.png').stat().st_size > 1000
        result = json.loads((tmp_path / 'runs' / preset /
                             'joint_concat_resnet18_avdigits' / 'seed0' /
                             'compare_result.json').read_text())
        shares = [result['test/shapley_share_audio'],
                  result['test/shapley_share_visual']]
        # Shares sum to 100 % unless a one-epoch model's heads all agree.
        assert sum(shares) == pytest.approx(100.0) or shares == [0.0, 0.0]
        # The per-sample correctness gives back the metric: 20 test samples.
        assert len(result['test_correct']) == 20
        assert 100 * sum(result['test_correct']) / 20 == pytest.approx(
            result['test/accuracy/top1'])
        assert result['best_epoch'] == 1 and result['wall_per_epoch_s'] > 0
        # Probe accuracies of 20 samples are multiples of 5 %.
        for m in ('audio', 'visual'):
            assert result[f'test/probe_{m}'] % 5 == pytest.approx(0, abs=1e-6)
        record = json.loads((runs_dir / preset /
                             'joint_concat_resnet18_avdigits' /
                             'seed0.json').read_text())
        assert record['metrics']['test/accuracy/top1'] == \
            result['test/accuracy/top1']
        assert record['config'] == 'configs/joint/' \
            'joint_concat_resnet18_avdigits.py'
        assert len(record['commit']) == 40 and record['seed'] == 0
        assert f'{preset}' in ' '.join(record['cfg_options'])
    summary = [line for line in text.splitlines()
               if line.startswith('| joint_concat') and
               len(re.findall(r'\|', line)) == 13]
    assert len(summary) == 2
    assert 'test visual probe' in text
    assert 'audio Shapley share' in text
    assert '[compare] joint_concat_resnet18_avdigits seed 0' in proc.stdout
    # The "Produced by" line is the exact command, every flag included.
    assert '--runs-dir' in text and '--probe' in text and '--work-root' in text

    # From the records alone (no work dirs), the same table comes back.
    shutil.rmtree(tmp_path / 'runs')
    again = tmp_path / 'again.md'
    report = [a if a != out else again for a in args] + ['--report-only']
    run_tool('tools/analysis/compare_methods.py', *report)
    strip = lambda t: [line for line in t.splitlines()  # noqa: E731
                       if not line.startswith(('Produced by', '!['))]
    assert strip(again.read_text()) == strip(text)


def load_compare_tool():
    return load_tool('tools/analysis/compare_methods.py')


def test_a_method_with_a_preset_variant_uses_it():
    tool = load_compare_tool()
    amst = str(REPO / 'configs' / 'amst' / 'amst-alt_resnet18_avdigits.py')
    assert tool.config_for(amst, 'visual-dominant').endswith(
        'amst-alt_resnet18_avdigits-visual-dominant.py')
    assert tool.config_for(amst, None) == amst
    assert tool.config_for(str(CONFIG), 'visual-dominant') == str(CONFIG)


def run_result(fused, audio=None, visual=None, probe_visual=None):
    result = {'test/accuracy/top1': fused}
    if audio is not None:
        result['test/acc_audio_mask'] = audio
    if visual is not None:
        result['test/acc_visual_mask'] = visual
    if probe_visual is not None:
        result['test/probe_visual'] = probe_visual
    return result


def test_headroom_table_picks_the_weak_modality_and_its_share():
    tool = load_compare_tool()
    results = {
        'a/joint.py': [run_result(98, 95, 50, 70), run_result(98, 95, 60, 70)],
        'a/method.py': [run_result(99, 96, 70, 75),
                        run_result(99, 96, 70, 75)],
        'a/visual_alone.py': [run_result(75, visual=75, probe_visual=80)],
        'a/audio_alone.py': [run_result(97, audio=97)],
    }
    text = '\n'.join(tool.headroom_table(results, 'joint'))
    assert 'Weak modality: **visual**' in text
    # Masked: joint 55, alone 75 -> 20 points; method 70 closes 75 %.
    # Probe: joint 70, alone 80 -> 10 points; method 75 closes 50 %.
    assert 'Headroom (masked): 20.0 points; probe: 10.0 points' in text
    row = next(line for line in text.splitlines()
               if line.startswith('| method'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert cells == ['method', '99.0 ± 0.0', '+1.0', '70.0 ± 0.0', '75 %',
                     '75.0 ± 0.0', '50 %']
    assert not any(line.startswith(('| visual_alone', '| audio_alone'))
                   for line in text.splitlines())
    with pytest.raises(KeyError, match='nope'):
        tool.headroom_table(results, 'nope')
    del results['a/visual_alone.py']
    with pytest.raises(ValueError, match='unimodal visual'):
        tool.headroom_table(results, 'joint')


def test_the_weak_modality_is_the_one_joint_training_under_trains_most():
    """Audio can have the lowest masked accuracy and still be the modality
    that starves the other (it fits the training set and generalises
    poorly): with both modalities' alone references, the choice is the
    largest gap to alone, not the lowest masked accuracy."""
    tool = load_compare_tool()
    ensemble = {'test/accuracy/top1': 88, 'test/acc_audio_mask': 57,
                'test/acc_visual_mask': 91}
    results = {'a/joint.py': [run_result(85, 53, 67)],
               'a/unimodal_ensemble_x.py': [ensemble]}
    text = '\n'.join(tool.headroom_table(results, 'joint'))
    # Gaps: audio 57 - 53 = 4, visual 91 - 67 = 24.
    assert 'Weak modality: **visual** (largest gap' in text
    assert 'Headroom (masked): 24.0 points' in text
    assert 'Fused headroom: unimodal_ensemble_x 88.0 against joint 85.0: ' \
        '+3.0 points' in text


def test_a_cell_says_how_many_runs_logged_it():
    tool = load_compare_tool()
    # Sample std (ddof = 1): sqrt(((1 - 2)^2 + (3 - 2)^2) / 1) = 1.41.
    assert tool.cell([1.0, 3.0], 2) == '2.0 ± 1.4'
    assert tool.cell([2.0], 3) == '2.0 (n=1)'
    assert tool.cell([], 3) == '–'


def test_report_only_trains_nothing_and_lists_missing_runs(tmp_path):
    out = tmp_path / 'table.md'
    run_tool('tools/analysis/compare_methods.py', CONFIG, '--seeds', '0', '1',
             '--work-root', tmp_path / 'runs', '--report-only', '--out', out)
    text = out.read_text()
    assert ('Not run yet (left out of the means): '
            'joint_concat_resnet18_avdigits seed 0, '
            'joint_concat_resnet18_avdigits seed 1.') in text
    assert '--report-only' in text
    assert not (tmp_path / 'runs').exists()


def test_headroom_reads_the_weak_member_of_an_ensemble():
    tool = load_compare_tool()
    results = {
        'a/joint.py': [run_result(80, 60, 50), run_result(82, 60, 52)],
        'a/unimodal_ensemble_x.py': [run_result(90, 70, 75),
                                     run_result(92, 72, 77)],
    }
    text = '\n'.join(tool.headroom_table(results, 'joint'))
    # Weak in joint: visual (51). Alone (the ensemble's member): 76.
    assert 'Weak modality: **visual**' in text
    assert 'Trained alone (unimodal_ensemble_x): 76.0 ± 1.4' in text
    assert 'Headroom (masked): 25.0 points' in text
    assert 'Fused headroom: unimodal_ensemble_x 91.0 against joint 81.0: ' \
        '+10.0 points.' in text


@pytest.mark.parametrize('table', ['avdigits_headroom.md',
                                   'avdigits_presets.md',
                                   'avdigits_mnist_fsdd.md',
                                   'arm_mnist_fsdd.md'])
def test_a_committed_table_regenerates_from_its_committed_records(
        table, tmp_path):
    """The 'Produced by' command of a table under docs/results, run in this
    checkout with --report-only, gives back the table from the run records
    committed beside it: the numbers describe the records, and the records
    are all that is needed."""
    committed = (REPO / 'docs' / 'results' / table).read_text()
    command = produced_by(committed)
    assert command[0] == 'tools/analysis/compare_methods.py'
    assert '--report-only' in command and '--runs-dir' in command
    out = tmp_path / table
    command[command.index('--out') + 1] = str(out)
    run_tool(*command)
    assert table_lines(out.read_text()) == table_lines(committed)


README_METHODS = {
    'joint training (concat)': 'joint_concat', 'unimodal ensemble':
    'unimodal_ensemble', 'AMST-ALT': 'amst-alt', 'MLA': 'mla', 'ARM': 'arm',
    'modality dropout': 'modality_dropout', 'MMPareto': 'mmpareto',
    'evidential (TMC)': 'evidential', 'OGM-GE': 'ogm-ge',
    'sample-level valuation': 'valuation-sample', 'Greedy': 'greedy',
    'AGM': 'agm', 'PMR': 'pmr'}


def test_the_readme_headline_is_the_committed_table():
    """Every cell of the README's headline table is the generated table's:
    fused top-1, its interval, the paired difference and both p-values from
    the paired table, the visual masked accuracy from the headroom table."""
    readme = (REPO / 'README.md').read_text()
    section = readme.split('### Headline: the all-real variant')[1]
    section = section.split('\n### ')[0]
    table = (REPO / 'docs' / 'results' / 'avdigits_mnist_fsdd.md').read_text()

    def row(prefix, width):
        lines = [line for line in table.splitlines()
                 if line.startswith(f'| {prefix}_resnet18_avdigits-mnist-fsdd |')
                 and line.count('|') == width + 1]
        assert len(lines) == 1, (prefix, width)
        return [c.strip() for c in lines[0].strip('|').split('|')]

    rows = [line for line in section.splitlines()
            if line.startswith('| ') and not line.startswith(('| method',
                                                               '|---'))]
    assert {r.split('|')[1].strip() for r in rows} == set(README_METHODS)
    for line in rows:
        cells = [c.strip().strip('*') for c in line.strip('|').split('|')]
        prefix = README_METHODS[cells[0]]
        paired = row(prefix, 8)   # config, seeds, fused, CI, Δ, CI, p, p
        headroom = row(prefix, 7)  # config, fused, Δ, visual masked, ...
        assert paired[1] == '5'
        delta = ('–' if paired[4] == '–'
                 else f'{paired[4]} {paired[5]}')
        assert cells[1:6] == [paired[2], paired[3], delta, paired[6],
                              paired[7]], cells[0]
        assert cells[6] == headroom[3], cells[0]
    # ARM's README quotes the same row.
    arm_readme = (REPO / 'configs' / 'arm' / 'README.md').read_text()
    assert f"ARM's fused test top-1 is {row('arm', 8)[2]} against joint " \
        f"training's {row('joint_concat', 8)[2]}" in arm_readme.replace(
            '\n', ' ')


def test_skip_existing_resumes_from_a_record_made_with_the_same_options(
        tmp_path, monkeypatch):
    """A fresh clone has the committed records but no work dirs: a run with a
    record of the same options is read back, any other is trained."""
    import argparse

    from armlab.evaluation.run_records import record_path, write_record
    tool = load_compare_tool()
    trained = []
    monkeypatch.setattr(tool, 'train_and_test', lambda config, seed, wd, o:
                        trained.append(seed) or {'test/accuracy/top1': 1.0})
    monkeypatch.setattr(tool, 'probe_at_best', lambda *a: {})
    monkeypatch.setattr(tool, 'save_json', lambda *a: None)
    opts = ['train_dataloader.dataset.preset=complementary']
    write_record(record_path(str(tmp_path), 'complementary', 'joint', 0),
                 config='configs/joint.py', preset='complementary', seed=0,
                 cfg_options=opts, metrics={'test/accuracy/top1': 75.0},
                 test_correct=[1, 1, 0, 1], commit={'commit': 'c' * 40,
                                                    'dirty': False},
                 machine='m', command='c')
    args = argparse.Namespace(runs_dir=[str(tmp_path)], report_only=False,
                              skip_existing=True, probe=False,
                              work_root=str(tmp_path / 'work'),
                              retest_stale=False, command='c')
    got = tool.load_run(args, 'configs/joint.py', 'complementary', 0,
                        'configs/joint.py', opts)
    assert got['test/accuracy/top1'] == 75.0 and trained == []
    assert list(got['test_correct']) == [1, 1, 0, 1]
    # Other options (or a probe the record lacks): trained again.
    tool.load_run(args, 'configs/joint.py', 'complementary', 0,
                  'configs/joint.py', opts + ['optim_wrapper.optimizer.lr=1'])
    args.probe = True
    tool.load_run(args, 'configs/joint.py', 'complementary', 0,
                  'configs/joint.py', opts)
    assert trained == [0, 0]
    # Several --runs-dir: a config's records come from the first folder
    # holding any of them, never some seeds from one and some from another.
    args.probe = False
    args.report_only = True
    args.runs_dir = [str(tmp_path / 'empty'), str(tmp_path)]
    got = tool.load_run(args, 'configs/joint.py', 'complementary', 0,
                        'configs/joint.py', opts)
    assert got['test/accuracy/top1'] == 75.0 and trained == [0, 0]
    newer = tmp_path / 'newer'
    write_record(record_path(str(newer), 'complementary', 'joint', 1),
                 config='configs/joint.py', preset='complementary', seed=1,
                 cfg_options=opts, metrics={'test/accuracy/top1': 80.0},
                 test_correct=[1, 1, 1, 1], commit={'commit': 'd' * 40,
                                                    'dirty': False},
                 machine='m', command='c')
    args.runs_dir = [str(newer), str(tmp_path)]
    assert tool.load_run(args, 'configs/joint.py', 'complementary', 0,
                         'configs/joint.py', opts) is None
    assert tool.load_run(args, 'configs/joint.py', 'complementary', 1,
                         'configs/joint.py', opts)['test/accuracy/top1'] == 80


def test_headroom_waits_for_its_reference_instead_of_failing():
    """A table regenerated while the ensemble has no run on a preset yet says
    so; a set without any unimodal reference is still an error."""
    tool = load_compare_tool()
    results = {'a/joint.py': [run_result(80, 60, 50), run_result(82, 60, 52)]}
    text = tool.headroom_table(results, 'joint',
                               ['joint', 'unimodal_ensemble_x'])
    assert text == ['Headroom not computed yet: no finished run of '
                    'unimodal_ensemble_x (the weak modality, visual, trained '
                    'alone).']
    with pytest.raises(ValueError, match='needs a unimodal visual config'):
        tool.headroom_table(results, 'joint', ['joint'])


def test_pairs_table_tests_a_component_against_its_control():
    """--pairs A:B: paired differences on the shared seeds, on validation
    (what a choice may read) and on test (bootstrap over the per-sample
    records)."""
    tool = load_compare_tool()

    def run(seed, val, test, correct):
        return {'seed': seed, 'val/accuracy/top1': val,
                'test/accuracy/top1': test, 'test_correct': correct}

    results = {
        'a/arm.py': [run(0, 90, 80, [1, 1, 1, 1, 0]),
                     run(1, 92, 80, [1, 1, 1, 0, 1]),
                     run(2, 91, 100, [1] * 5)],
        'a/control.py': [run(0, 88, 60, [1, 1, 1, 0, 0]),
                         run(1, 89, 60, [1, 1, 0, 0, 1])],
    }
    lines = tool.pairs_table(results, ['arm:control'])
    cells = [c.strip() for c in lines[-1].strip('|').split('|')]
    # Seeds 0 and 1 only; val +2.0 and +3.0, test +20 on both.
    assert cells[:6] == ['arm', 'control', '2', '+2.5', cells[4], '+20.0']
    assert float(cells[4]) < 0.2  # t over the two val differences
    assert cells[6].startswith('[+')  # a bootstrap interval
    with pytest.raises(KeyError, match='A:B'):
        tool.pairs_table(results, ['arm-control'])
    with pytest.raises(KeyError, match='nope'):
        tool.pairs_table(results, ['arm:nope'])
    # A configured control without runs yet: a row of dashes.
    waiting = tool.pairs_table(results, ['arm:later'],
                               ['arm', 'control', 'later'])
    assert waiting[-1] == '| arm | later | 0 | – | – | – | – | – | – |'


def test_seed_placeholders_are_filled_for_the_run_and_kept_in_the_record(
        tmp_path, monkeypatch):
    """UMT names the unimodal run of its own seed as teacher: ``{seed}`` in
    an option reaches that run filled, while the record keeps the option as
    given, so that --skip-existing matches it for every seed."""
    import argparse

    from armlab.evaluation.run_records import read_record, record_path
    tool = load_compare_tool()
    seen = {}
    monkeypatch.setattr(tool, 'train_and_test', lambda config, seed, wd, o:
                        seen.setdefault(seed, o) and {
                            'test/accuracy/top1': 1.0, 'test_correct': [1]})
    monkeypatch.setattr(tool, 'save_json', lambda *a: None)
    monkeypatch.setattr(tool, 'machine', lambda: 'm')
    opts = ['model.balancer.teacher_checkpoint=w/{preset}/ume/seed{seed}']
    args = argparse.Namespace(runs_dir=[str(tmp_path)], report_only=False,
                              skip_existing=True, probe=False,
                              work_root=str(tmp_path / 'work'),
                              retest_stale=False, command='c')
    for seed in (0, 3):
        tool.load_run(args, 'configs/umt.py', 'complementary', seed,
                      'configs/umt.py', opts)
    assert seen == {
        0: ['model.balancer.teacher_checkpoint=w/complementary/ume/seed0'],
        3: ['model.balancer.teacher_checkpoint=w/complementary/ume/seed3']}
    record = read_record(record_path(str(tmp_path), 'complementary', 'umt', 3))
    assert record['cfg_options'] == opts
    assert tool.fill_placeholders(['a=1'], 2, None) == ['a=1']
