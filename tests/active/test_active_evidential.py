"""EvidentialStrategy: top-b of the fused u, C or their mix, and a clear
error when the model's fusion forms no opinions."""
import numpy as np
import pytest
import torch
from torch import nn

from armlab.active.strategies.base import (AcquisitionContext, PoolOutputs,
                                           check_selection)
from armlab.registry import ACQUISITION_STRATEGIES, MODELS

UNLABELLED = np.arange(10, 16)
#: Hand-made fused opinions of six pool items (dataset indices 10..15).
U = [0.1, 0.9, 0.5, 0.7, 0.2, 0.3]
C = [0.8, 0.0, 0.1, 0.3, 0.9, 0.2]


def context(evidential, fusion='ConcatFusion') -> AcquisitionContext:
    n = len(UNLABELLED)
    model = nn.Module()
    model.fusion = MODELS.build(dict(
        type=fusion, modalities=('audio', 'visual'),
        in_channels=dict(audio=3, visual=2), num_classes=4))
    pool = PoolOutputs(
        indices=UNLABELLED, probs=torch.full((n, 4), 0.25),
        feats=dict(audio=torch.zeros(n, 3), visual=torch.zeros(n, 2)),
        evidential=evidential)
    return AcquisitionContext(model=model, round=0, num_rounds=3,
                              labelled=np.arange(10), unlabelled=UNLABELLED,
                              pool=pool)


def hand_made() -> dict:
    return dict(uncertainty=torch.tensor(U), conflict=torch.tensor(C),
                belief=torch.zeros(6, 4))


@pytest.mark.parametrize('criterion, kwargs, expected', [
    ('uncertainty', {}, [11, 13]),     # u = 0.9, 0.7
    ('conflict', {}, [14, 10]),        # C = 0.9, 0.8
    # (u + C) / 2 = .45 .45 .30 .50 .55 .25 -> items 14, 13
    ('mix', dict(mix_weight=0.5), [14, 13]),
    # 0.9 u + 0.1 C = .17 .81 .46 .66 .27 .29 -> items 11, 13, 12
    ('mix', dict(mix_weight=0.1), [11, 13, 12]),
])
def test_picks_exactly_the_top_b(criterion, kwargs, expected):
    strategy = ACQUISITION_STRATEGIES.build(
        dict(type='evidential', criterion=criterion, **kwargs))
    ctx = context(hand_made())
    picked = strategy.select(ctx, len(expected))
    assert picked.tolist() == expected
    check_selection(picked, ctx, len(expected))


def test_reads_the_opinions_of_a_real_evidential_fusion():
    torch.manual_seed(0)
    fusion = MODELS.build(dict(type='EvidentialFusion',
                               modalities=('audio', 'visual'),
                               in_channels=dict(audio=3, visual=2),
                               num_classes=4))
    with torch.no_grad():
        opinions = fusion.opinions(dict(audio=torch.randn(6, 3),
                                        visual=torch.randn(6, 2)))
    ctx = context(opinions, fusion='EvidentialFusion')
    picked = ACQUISITION_STRATEGIES.build(dict(type='EvidentialStrategy',
                                               criterion='conflict'))
    expected = UNLABELLED[np.argsort(-opinions['conflict'].numpy())[:3]]
    assert sorted(picked.select(ctx, 3).tolist()) == sorted(expected.tolist())


def test_without_opinions_names_the_config_key():
    strategy = ACQUISITION_STRATEGIES.build(dict(type='evidential'))
    with pytest.raises(ValueError) as err:
        strategy.select(context(None), 2)
    message = str(err.value)
    assert "model.fusion.type='EvidentialFusion'" in message
    assert 'ConcatFusion' in message


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="criterion 'entropy'"):
        ACQUISITION_STRATEGIES.build(dict(type='evidential',
                                          criterion='entropy'))
    with pytest.raises(ValueError, match='mix_weight'):
        ACQUISITION_STRATEGIES.build(dict(type='evidential', criterion='mix',
                                          mix_weight=1.5))
