"""The unimodal ensemble: its prediction is the mean of its members'
probabilities, and each member trains exactly as that modality alone."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from armlab.registry import MODELS
from armlab.utils import register_all_modules

DIMS = {'audio': 6, 'visual': 5}


@pytest.fixture(scope='module', autouse=True)
def _registered():
    register_all_modules()


def classifier(modalities, fusion, balancer=None):
    return MODELS.build(dict(
        type='MultimodalClassifier', num_classes=4, fusion=fusion,
        balancer=balancer, aux_heads=False,
        encoders={m: dict(type='MLPEncoder', in_channels=DIMS[m],
                          out_channels=3) for m in modalities},
        data_preprocessor=dict(type='MultimodalDataPreprocessor',
                               modalities={m: dict() for m in modalities})))


def ensemble():
    return classifier(DIMS, dict(type='ProbabilityAverageFusion'),
                      dict(type='UnimodalEnsemble'))


def unimodal_twin(model, modality):
    """A one-modality classifier holding a copy of the member's weights."""
    alone = classifier([modality], dict(type='ConcatFusion'))
    alone.encoders[modality].load_state_dict(
        model.encoders[modality].state_dict())
    alone.fusion.fc.load_state_dict(model.fusion.heads[modality].state_dict())
    return alone


def batch(seed, n=8, modalities=DIMS):
    g = torch.Generator().manual_seed(seed)
    inputs = {m: torch.randn(n, DIMS[m], generator=g) for m in modalities}
    labels = torch.randint(0, 4, (n, ), generator=g)
    return dict(inputs=inputs, data_samples=[
        DataSample().set_gt_label(int(y)) for y in labels])


def test_prediction_is_the_mean_of_the_members_probabilities():
    torch.manual_seed(0)
    model = ensemble().eval()
    data = batch(1)
    fused = torch.stack([ds.pred_score for ds in
                         model.test_step(data)])
    members = [F.softmax(unimodal_twin(model, m).eval()(
        {m: data['inputs'][m]}), -1) for m in DIMS]
    expected = (members[0] + members[1]) / 2
    assert torch.allclose(fused, expected, atol=1e-6)
    # The masked prediction of one modality is that member alone; none
    # present is uniform.
    feats = model.extract_feat(data['inputs'])
    masked = model.masked_logits(feats, [('audio', ), ()])
    assert torch.allclose(masked[('audio', )].softmax(-1), members[0],
                          atol=1e-6)
    assert torch.allclose(masked[()], torch.full((8, 4), -math.log(4)))


def test_absent_member_casts_no_vote():
    torch.manual_seed(0)
    model = ensemble().eval()
    data = batch(2)
    feats = model.extract_feat(data['inputs'])
    present = torch.tensor([[True, False], [False, True]] * 4)
    fused = model.fusion(feats, present=present)
    singles = model.masked_logits(feats, [('audio', ), ('visual', )])
    expected = torch.where(present[:, :1], singles[('audio', )],
                           singles[('visual', )])
    assert torch.allclose(fused, expected, atol=1e-6)


def test_members_train_exactly_as_each_modality_alone():
    """SGD with momentum and weight decay, same batches: every member's
    weights after five steps equal those of its modality trained alone."""
    torch.manual_seed(0)
    model = ensemble()
    twins = {m: unimodal_twin(model, m) for m in DIMS}

    def sgd(net):
        return OptimWrapper(torch.optim.SGD(net.parameters(), lr=0.1,
                                            momentum=0.9, weight_decay=5e-4))

    wrapper = sgd(model)
    twin_wrappers = {m: sgd(t) for m, t in twins.items()}
    start = copy.deepcopy(model.state_dict())
    for step in range(5):
        data = batch(10 + step)
        log = model.train_step(data, wrapper)
        assert set(log) >= {'loss_audio', 'loss_visual'}
        assert 'loss_cls' not in log
        for m, twin in twins.items():
            alone = dict(inputs={m: data['inputs'][m]},
                         data_samples=data['data_samples'])
            twin.train_step(alone, twin_wrappers[m])
    for m, twin in twins.items():
        assert torch.allclose(twin.fusion.fc.weight,
                              model.fusion.heads[m].weight, atol=1e-6)
        for a, b in zip(twin.encoders[m].parameters(),
                        model.encoders[m].parameters()):
            assert torch.allclose(a, b, atol=1e-6)
    moved = max((model.state_dict()[k] - v).abs().max()
                for k, v in start.items())
    assert moved > 1e-3  # the weights did train


def test_ensemble_refuses_a_coupling_fusion_and_global_clipping():
    torch.manual_seed(0)
    wrong = classifier(DIMS, dict(type='ConcatFusion'),
                       dict(type='UnimodalEnsemble'))
    wrapper = OptimWrapper(torch.optim.SGD(wrong.parameters(), lr=0.1))
    with pytest.raises(TypeError, match='ProbabilityAverageFusion'):
        wrong.train_step(batch(3), wrapper)
    model = ensemble()
    clipped = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1),
                           clip_grad=dict(max_norm=1.0))
    with pytest.raises(ValueError, match='clip_grad'):
        model.train_step(batch(3), clipped)
