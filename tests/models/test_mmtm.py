"""MMTMClassifier: stage-by-stage encoders, excitation, running averages, and
the re-balancing step that cuts the cross-modal flow into one branch."""
import pytest
import torch

from armlab.models import MultimodalClassifier
from armlab.models.classifiers.mmtm import MMTMBlock, MMTMClassifier

from helpers.mmtm_models import ENCODERS, batch, mmtm_model

def test_without_blocks_it_is_the_late_fusion_model():
    plain = mmtm_model(cls=MultimodalClassifier).eval()
    staged = mmtm_model(mmtm_stages=()).eval()
    staged.load_state_dict(plain.state_dict())
    x = batch()
    for m, f in plain.extract_feat(x).items():
        torch.testing.assert_close(staged.extract_feat(x)[m], f)


def test_blocks_follow_the_configured_stages_with_branch_channels():
    model = mmtm_model()
    assert list(model.mmtm) == ['layer2', 'layer3', 'layer4']
    block = model.mmtm['layer4']
    assert block.excite['audio'].out_features == 32
    assert block.excite['visual'].out_features == 64
    # Joint code: 2 (C_a + C_v) / ratio units.
    assert block.squeeze.out_features == 2 * (32 + 64) // 4
    feats = model.extract_feat(batch())
    assert feats['audio'].shape == (4, 32) and feats['visual'].shape == (4, 64)
    assert list(mmtm_model(mmtm_stages=(3, )).mmtm) == ['layer3']


def cross_gradient(model, source, target):
    """d(sum of target's features) / d(source's input), or None."""
    x = batch()
    x[source].requires_grad_(True)
    feats = model.extract_feat(x)
    (grad, ) = torch.autograd.grad(feats[target].sum(), x[source],
                                   allow_unused=True)
    return grad


@pytest.mark.parametrize('caring,other', [('audio', 'visual'),
                                          ('visual', 'audio')])
def test_rebalancing_step_cuts_the_flow_into_the_caring_branch(caring, other):
    model = mmtm_model().train()
    regular = cross_gradient(model, other, caring)
    assert regular is not None and regular.abs().sum() > 0
    model.set_caring(caring)
    cut = cross_gradient(model, other, caring)
    assert cut is None or not cut.any()
    # The other branch is still excited by the caring one.
    into_other = cross_gradient(model, caring, other)
    assert into_other is not None and into_other.abs().sum() > 0
    # Evaluation is never re-balanced.
    model.eval()
    assert cross_gradient(model, other, caring).abs().sum() > 0


def test_rebalancing_excitation_is_the_branch_running_average():
    model = mmtm_model().train()
    model.extract_feat(batch(seed=1))  # a first update of the averages
    block = model.mmtm['layer2']
    seen = {}
    block.register_forward_pre_hook(
        lambda mod, args: seen.update(maps=args[0], frames=args[1]))
    block.register_forward_hook(
        lambda mod, args, out: seen.update(out=out))
    model.set_caring('audio')
    model.extract_feat(batch(seed=2))
    avg = block.running_excitation('audio')
    torch.testing.assert_close(seen['out']['audio'],
                               seen['maps']['audio'] * avg[:, None, None])
    e = block.excitations(seen['maps'], seen['frames'])['visual']
    e = e.repeat_interleave(seen['frames']['visual'], 0)
    torch.testing.assert_close(seen['out']['visual'],
                               seen['maps']['visual'] * e[:, :, None, None])


def test_running_averages_track_their_own_branch():
    model = mmtm_model().train()
    block = model.mmtm['layer3']
    maps = []
    block.register_forward_pre_hook(lambda mod, args: maps.append(args))
    for seed in (1, 2, 3):
        model.extract_feat(batch(seed=seed))
    with torch.no_grad():
        excitations = [block.excitations(*args) for args in maps]
    for m, channels in (('audio', 16), ('visual', 32)):
        expected = torch.stack([e[m].mean(0) for e in excitations]).mean(0)
        assert block.running_excitation(m).shape == (channels, )
        torch.testing.assert_close(block.running_excitation(m), expected)
    assert int(block.num_updates) == 3
    # Evaluation forwards leave them alone.
    before = block.running_excitation('visual').clone()
    model.eval().extract_feat(batch(seed=4))
    torch.testing.assert_close(block.running_excitation('visual'), before)
    assert 'mmtm.layer3.running_excitation_audio' in model.state_dict()


def test_ema_running_average_and_excitation_scale():
    block = MMTMBlock(dict(a=2, v=3), excitation_scale=2.0, momentum=0.5)
    for lin in block.excite.values():
        torch.nn.init.zeros_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
    maps = dict(a=torch.randn(2, 2, 3, 3), v=torch.randn(6, 3, 3, 3))
    out = block(maps, dict(a=1, v=3))  # 2 * sigmoid(0) = 1: identity
    torch.testing.assert_close(out['v'], maps['v'])
    torch.testing.assert_close(block.running_excitation('v'), torch.ones(3))


def test_bypass_and_main_parameters():
    model = mmtm_model()
    bypass = {id(p) for p in model.bypass_parameters('audio')}
    for block in model.mmtm.values():
        assert id(block.excite['audio'].weight) in bypass
        assert id(block.squeeze.weight) in bypass
        assert id(block.excite['visual'].weight) not in bypass
    main = list(model.main_parameters('visual'))
    assert len(main) == len(list(model.encoders['visual'].parameters()))


def test_refuses_other_than_two_resnet_branches():
    three = dict(ENCODERS, depth=dict(type='SpectrogramResNet',
                                      base_channels=4))
    with pytest.raises(ValueError, match='exactly two modalities'):
        MMTMClassifier(encoders=three, fusion=dict(type='ConcatFusion'),
                       num_classes=3)
    mlp = dict(audio=ENCODERS['audio'],
               visual=dict(type='MLPEncoder', in_channels=4, out_channels=8))
    with pytest.raises(TypeError, match='stage by stage'):
        MMTMClassifier(encoders=mlp, fusion=dict(type='ConcatFusion'),
                       num_classes=3)
    with pytest.raises(ValueError, match='out of range'):
        mmtm_model(mmtm_stages=(5, ))
    with pytest.raises(KeyError, match='unknown modality'):
        mmtm_model().set_caring('depth')
