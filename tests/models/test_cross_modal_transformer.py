"""The MulT-style cross-modal transformer: shapes, padding invariance,
cross-modal dependence, a missing modality (all padding) stays finite, the
refusals, and one epoch on a tiny CMU-MOSI pickle."""
import pytest
import torch

from conftest import REPO, train_in_process
from helpers.raw_text_media import run_script
from helpers.sentiment_pickles import loader_options, make_sentiment_pickle

from armlab.models import MultimodalClassifier  # noqa: F401 (registry)
from armlab.models.backbones.sequence_projector import sinusoidal_positions
from armlab.registry import MODELS
from armlab.utils.scalars import load_scalars

DIMS = dict(audio=5, visual=7, text=9)


def make_model(dims=DIMS, width=8, **kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='CrossModalTransformerClassifier',
        encoders={m: dict(type='SequenceProjector', in_channels=d,
                          out_channels=width) for m, d in dims.items()},
        fusion=dict(type='ConcatFusion'), num_classes=3, num_heads=2,
        dropout=0.0, **kwargs,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))).eval()


def inputs(batch=4, steps=6, dims=DIMS):
    torch.manual_seed(1)
    return {m: torch.randn(batch, steps, d) + 0.1 for m, d in dims.items()}


def test_features_are_per_modality_at_the_cross_width():
    model = make_model()
    feats = model.extract_feat(inputs())
    assert {m: tuple(f.shape) for m, f in feats.items()} == \
        {m: (4, 16) for m in DIMS}  # (M - 1) * 8
    assert model(inputs(), mode='tensor').shape == (4, 3)


def test_padding_rows_change_nothing():
    model = make_model()
    x = inputs()
    padded = {m: torch.cat([v, torch.zeros(4, 3, v.shape[-1])], 1)
              for m, v in x.items()}
    with torch.no_grad():
        a, b = model.extract_feat(x), model.extract_feat(padded)
    for m in DIMS:
        torch.testing.assert_close(a[m], b[m], atol=1e-5, rtol=1e-5)


def test_a_target_reads_the_other_modalities():
    model = make_model()
    x = inputs()
    changed = dict(x, visual=x['visual'] * -2)
    with torch.no_grad():
        a, b = model.extract_feat(x), model.extract_feat(changed)
    assert not torch.allclose(a['audio'], b['audio'])
    assert not torch.allclose(a['text'], b['text'])
    # A modality all padding (missing) keeps every output finite.
    gone = dict(x, visual=torch.zeros_like(x['visual']))
    with torch.no_grad():
        out = model.extract_feat(gone)
    assert all(torch.isfinite(v).all() for v in out.values())
    assert float(out['visual'].abs().max()) == 0.0


def test_positions_and_refusals():
    pos = sinusoidal_positions(4, 6)
    assert pos.shape == (4, 6) and float(pos[0, 1]) == 1.0
    with pytest.raises(ValueError, match='same out_channels'):
        MODELS.build(dict(
            type='CrossModalTransformerClassifier',
            encoders=dict(a=dict(type='SequenceProjector', in_channels=2,
                                 out_channels=4),
                          b=dict(type='SequenceProjector', in_channels=2,
                                 out_channels=6)),
            fusion=dict(type='ConcatFusion'), num_classes=2))
    with pytest.raises(ValueError, match=r'\(B, T, 5\)'):
        make_model().extract_feat(dict(inputs(), audio=torch.randn(4, 6, 4)))


@pytest.fixture(scope='module')
def mosi(tmp_path_factory):
    root = tmp_path_factory.mktemp('mosi_raw')
    pkl = make_sentiment_pickle(root / 'aligned_50.pkl')
    out = root / 'mosi'
    code, _ = run_script('tools/data/prepare_sentiment.py', '--dataset',
                         'mosi', '--pickle', pkl, '--out', out,
                         '--no-progress')
    assert code == 0
    return out


@pytest.mark.filterwarnings('ignore:modality_information')  # 9 samples
@pytest.mark.parametrize('config', ['arm_mult_sequence_mosi',
                                    'arm_concat_sequence_mosi'])
def test_arm_trains_on_mosi(mosi, tmp_path, config):
    train_in_process(REPO / 'configs' / 'arm' / f'{config}.py', tmp_path,
                     '--cfg-options', *loader_options(mosi),
                     'train_cfg.max_epochs=2', 'custom_hooks.0.warmup_epochs=1',
                     'default_hooks.logger.interval=1')
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'ARM valuation after epoch 1 on' in log  # warm-up 1 of 2
    assert (tmp_path / 'epoch_2.pth').is_file()


def test_mosi_config_trains_one_epoch(mosi, tmp_path):
    opts = loader_options(mosi)
    train_in_process(REPO / 'configs' / 'joint' / 'joint_mult_sequence_mosi.py',
                     tmp_path / 'work', '--cfg-options', *opts,
                     'train_cfg.max_epochs=1',
                     'default_hooks.logger.interval=1')
    rows = [r for r in load_scalars(tmp_path / 'work')
            if 'accuracy/top1' in r]
    assert len(rows) == 1 and 'acc_text_mask' in rows[0]
    # The missing-frame protocol acts per time step on this model.
    code, stdout = run_script(
        'tools/robustness.py',
        REPO / 'configs' / 'joint' / 'joint_mult_sequence_mosi.py',
        tmp_path / 'work' / 'epoch_1.pth', '--protocol', 'TMFM', '--rates',
        '0,0.5', '--work-dir', tmp_path / 'rob', '--cfg-options', *opts)
    assert code == 0, stdout
    assert list((tmp_path / 'rob').rglob('*.json'))
