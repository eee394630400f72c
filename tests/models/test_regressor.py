"""MultimodalRegressor: one output, L1 loss on gt_value, per-modality masked
values, label-free prediction, balancers that need classes refused, and one
epoch of the CMU-MOSI regression config on a tiny prepared pickle."""
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from conftest import REPO, train_in_process
from helpers.sentiment_pickles import prepare_tiny_mosi

from armlab.evaluation.metrics import (SentimentRegressionMetric,
                                       regression_metrics)
from armlab.registry import MODELS
from armlab.utils.scalars import epoch_series, load_scalars


def regressor(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='MultimodalRegressor',
        encoders=dict(a=dict(type='MLPEncoder', in_channels=3,
                             out_channels=4, hidden_channels=(4, )),
                      b=dict(type='MLPEncoder', in_channels=2,
                             out_channels=4, hidden_channels=(4, ))),
        fusion=dict(type='ConcatFusion'),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'),
        **kwargs))


def batch(n=6):
    g = torch.Generator().manual_seed(1)
    inputs = dict(a=torch.randn(n, 3, generator=g),
                  b=torch.randn(n, 2, generator=g))
    samples = []
    for v in torch.linspace(-3, 3, n):
        ds = DataSample()
        ds.set_field(v.reshape(1), 'gt_value', field_type='data')
        samples.append(ds)
    return inputs, samples


def test_loss_is_l1_of_the_fused_output_on_the_targets():
    model = regressor()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    out = model.fuse(model.extract_feat(inputs))
    assert out.shape == (6, 1)
    target = torch.linspace(-3, 3, 6)
    torch.testing.assert_close(losses['loss_reg'],
                               (out[:, 0] - target).abs().mean())
    losses['loss_reg'].backward()
    assert all(p.grad is not None for p in model.encoders['a'].parameters())


def test_prediction_gives_fused_and_masked_values_without_targets():
    model = regressor().eval()
    inputs, _ = batch()
    with torch.no_grad():
        out = model(inputs, None, mode='predict')
        feats = model.extract_feat(inputs)
        masked = model.masked_logits(feats, [('a', ), ('b', )])
    assert torch.equal(out[2].pred_value, model.fuse(feats)[2, :1])
    assert torch.equal(out[2].modality_values['b_mask'],
                       masked[('b', )][2, :1])
    assert model.subset_labels(feats) == {}


def test_balancers_that_need_classes_are_refused_by_name():
    with pytest.raises(ValueError, match='OGMGEBalancer needs a '
                       'classification task'):
        regressor(balancer=dict(type='OGMGEBalancer'))
    with pytest.raises(ValueError, match='predicts one value'):
        regressor(num_classes=3)
    regressor(balancer=dict(type='JointTraining'))  # joint training works


def test_missing_target_is_named():
    model = regressor()
    inputs, samples = batch()
    samples[1] = DataSample()
    samples[1].set_metainfo(dict(sample_id='clip_7'))
    with pytest.raises(KeyError, match="clip_7.*regression_label"):
        model.loss(inputs, samples)


def test_metric_matches_the_regression_functions_fused_and_masked():
    metric = SentimentRegressionMetric()
    rng = np.random.default_rng(0)
    target = np.round(rng.uniform(-3, 3, 20) * 3) / 3
    pred = target + rng.normal(0, 0.8, 20)
    masked = pred[::-1].copy()
    metric.process(None, [dict(pred_value=torch.tensor([p]),
                               gt_value=torch.tensor([t]),
                               modality_values=dict(
                                   text_mask=torch.tensor([m])))
                          for p, t, m in zip(pred, target, masked)])
    out = metric.compute_metrics(metric.results)
    expected = regression_metrics(pred, target)
    for key, value in expected.items():
        assert out[key] == pytest.approx(value)
    assert out['mae_text_mask'] == pytest.approx(
        np.abs(masked - target).mean())
    with pytest.raises(KeyError, match='pred_value and gt_value'):
        metric.process(None, [dict(pred_score=torch.zeros(3))])


def test_mosi_regression_config_trains_one_epoch(tmp_path):
    root = prepare_tiny_mosi(tmp_path)
    opts = [f'{name}.{key}' for name in ('train_dataloader', 'val_dataloader',
                                         'test_dataloader')
            for key in (f'dataset.data_root={root}', 'batch_size=4',
                        'num_workers=0', 'persistent_workers=False')]
    work = tmp_path / 'work'
    train_in_process(
        REPO / 'configs' / 'joint' / 'joint_concat_sequence_mosi-regression.py',
        work, '--cfg-options', *opts, 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1')
    rows = load_scalars(work)
    assert any('loss_reg' in r for r in rows)
    _, mae = epoch_series(rows, 'sentiment/mae')
    assert len(mae) == 1 and 0 <= mae[0] <= 6
    _, acc7 = epoch_series(rows, 'sentiment/acc7_text_mask')
    assert len(acc7) == 1 and 0 <= acc7[0] <= 100
    assert list(work.glob('best_sentiment_mae_epoch_1.pth'))
