"""Encoders, fusions and the multimodal classifier: shapes, masks, weights."""
import pytest
import torch
from mmpretrain.structures import DataSample

from armlab.models.classifiers.multimodal import configured_modalities
from armlab.models import (BaseFusion, ConcatFusion, FiLMFusion, FrameResNet, GatedFusion,
                           MultimodalClassifier, SpectrogramResNet, SumFusion)
from armlab.registry import MODELS

K = 5


def make_feats(b=4, dims=(6, 4), names=('audio', 'visual'), seed=0):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(b, d, generator=g) for m, d in zip(names, dims)}


def build_fusion(cls, dims=(6, 4), names=('audio', 'visual'), **kw):
    return cls(modalities=names, in_channels=dict(zip(names, dims)),
               num_classes=K, **kw)


def tiny_classifier(fusion='ConcatFusion', **kw):
    return MultimodalClassifier(
        encoders=dict(
            audio=dict(type='SpectrogramResNet', base_channels=4),
            visual=dict(type='FrameResNet', base_channels=4)),
        fusion=dict(type=fusion),
        num_classes=K,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'),
        **kw)


def tiny_inputs(b=3):
    return dict(audio=torch.randn(b, 1, 16, 12),
                visual=torch.randn(b, 3, 2, 16, 16))


def samples(labels, masks=None):
    out = []
    for i, y in enumerate(labels):
        ds = DataSample().set_gt_label(y)
        if masks is not None:
            ds.set_metainfo(dict(modality_mask=torch.tensor(masks[i])))
        out.append(ds)
    return out


def test_encoders_output_shapes_and_width():
    audio = SpectrogramResNet(base_channels=8)
    visual = FrameResNet(base_channels=8)
    assert audio(torch.randn(2, 1, 32, 20)).shape == (2, 64)
    assert visual(torch.randn(2, 3, 3, 32, 32)).shape == (2, 64)
    assert audio.out_channels == visual.out_channels == 64
    with pytest.raises(ValueError, match='FrameResNet expects'):
        visual(torch.randn(2, 3))


def test_frame_encoder_pools_over_time():
    """Repeating the same frame T times gives the single-frame features."""
    visual = FrameResNet(base_channels=4).eval()
    frame = torch.randn(2, 3, 1, 16, 16)
    one = visual(frame)
    three = visual(frame.repeat(1, 1, 3, 1, 1))
    torch.testing.assert_close(one, three)


def test_channels_last_encoders_match_the_default_layout():
    """The GPU switch changes memory layout only: same weights, same
    outputs, NHWC conv weights, and weight init keeps the format."""
    for cls, x in ((SpectrogramResNet, torch.randn(2, 1, 16, 12)),
                   (FrameResNet, torch.randn(2, 3, 2, 16, 16))):
        torch.manual_seed(0)
        plain = cls(base_channels=4).eval()
        torch.manual_seed(0)
        nhwc = cls(base_channels=4, channels_last=True).eval()
        nhwc.load_state_dict(plain.state_dict())
        assert nhwc.layer1[0].conv1.weight.is_contiguous(
            memory_format=torch.channels_last)
        assert not plain.layer1[0].conv1.weight.is_contiguous(
            memory_format=torch.channels_last)
        torch.testing.assert_close(nhwc(x), plain(x), rtol=1e-5, atol=1e-5)
        nhwc.init_weights()
        assert nhwc.layer1[0].conv1.weight.is_contiguous(
            memory_format=torch.channels_last)


@pytest.mark.parametrize('cls', [ConcatFusion, SumFusion])
def test_decomposed_logits_sum_to_fused(cls):
    fusion = build_fusion(cls)
    feats = make_feats()
    parts = fusion.decompose(feats)
    torch.testing.assert_close(sum(parts.values()), fusion(feats))


def test_concat_decomposition_splits_bias_evenly():
    fusion = build_fusion(ConcatFusion)
    feats = {m: torch.zeros_like(v) for m, v in make_feats().items()}
    for z in fusion.decompose(feats).values():
        torch.testing.assert_close(z[0], fusion.fc.bias / 2)


@pytest.mark.parametrize('cls', [ConcatFusion, SumFusion, FiLMFusion,
                                 GatedFusion])
def test_zero_fill_mask_equals_zeroed_features(cls):
    dims = (4, 4)
    fusion = build_fusion(cls, dims=dims)
    feats = make_feats(dims=dims)
    present = torch.tensor([[True, False]] * 4)
    zeroed = dict(feats, visual=torch.zeros_like(feats['visual']))
    torch.testing.assert_close(fusion(feats, present=present),
                               fusion(zeroed))


@pytest.mark.parametrize('cls', [ConcatFusion, SumFusion])
@pytest.mark.parametrize('fill', ['zero', 'mean', 'learned'])
def test_additive_subset_logits_match_full_passes(cls, fill):
    """The per-modality fast path equals one masked fusion pass per subset."""
    fusion = build_fusion(cls, fill=fill)
    if fill == 'learned':
        with torch.no_grad():
            for token in fusion.fill_tokens.values():
                token.normal_()
    if fill == 'mean':
        fusion.train()
        fusion(make_feats(seed=1))
        fusion.eval()
    feats = make_feats()
    weights = torch.tensor([1.3, 0.7])
    subsets = [(), ('audio', ), ('visual', ), ('audio', 'visual')]
    fast = fusion.subset_logits(feats, subsets, weights)
    slow = BaseFusion.subset_logits(fusion, feats, subsets, weights)
    for s in subsets:
        torch.testing.assert_close(fast[s], slow[s])


def test_mask_is_per_sample():
    fusion = build_fusion(ConcatFusion)
    feats = make_feats(b=2)
    present = torch.tensor([[True, True], [True, False]])
    out = fusion(feats, present=present)
    torch.testing.assert_close(out[0], fusion(feats)[0])
    zeroed = dict(feats, visual=torch.zeros_like(feats['visual']))
    torch.testing.assert_close(out[1], fusion(zeroed)[1])


def test_weights_scale_present_features_only():
    fusion = build_fusion(ConcatFusion)
    feats = make_feats()
    w = torch.tensor([2.0, 0.5])
    scaled = {'audio': feats['audio'] * 2, 'visual': feats['visual'] * 0.5}
    torch.testing.assert_close(fusion(feats, weights=w), fusion(scaled))
    present = torch.tensor([[False, True]] * 4)
    expect = fusion({'audio': torch.zeros_like(feats['audio']),
                     'visual': scaled['visual']})
    torch.testing.assert_close(fusion(feats, weights=w, present=present),
                               expect)


def test_mean_and_learned_fills():
    fusion = build_fusion(ConcatFusion, fill='mean', fill_momentum=1.0)
    feats = make_feats()
    fusion.train()
    fusion(feats)  # the running mean becomes this batch's mean
    fusion.eval()
    present = torch.tensor([[True, False]] * 4)
    mean_v = feats['visual'].mean(0, keepdim=True).expand_as(feats['visual'])
    torch.testing.assert_close(fusion(feats, present=present),
                               fusion(dict(feats, visual=mean_v)))
    learned = build_fusion(ConcatFusion, fill='learned')
    with torch.no_grad():
        learned.fill_tokens['visual'].fill_(3.0)
    torch.testing.assert_close(
        learned(feats, present=present),
        learned(dict(feats, visual=torch.full_like(feats['visual'], 3.0))))


def test_two_modality_fusions_reject_three():
    with pytest.raises(ValueError, match='exactly 2'):
        build_fusion(FiLMFusion, dims=(4, 4, 4), names=('a', 'v', 't'))
    fusion = build_fusion(ConcatFusion, dims=(4, 4, 4), names=('a', 'v', 't'))
    assert fusion(make_feats(dims=(4, 4, 4), names=('a', 'v', 't'))).shape \
        == (4, K)


def test_bad_fusion_arguments_name_the_culprit():
    with pytest.raises(ValueError, match='unknown fill'):
        build_fusion(ConcatFusion, fill='noise')
    with pytest.raises(ValueError, match="condition 'text'"):
        build_fusion(FiLMFusion, dims=(4, 4), condition='text')


def test_classifier_forward_modes_and_masked_logits():
    model = tiny_classifier()
    inputs = tiny_inputs()
    logits = model(inputs, mode='tensor')
    assert logits.shape == (3, K)
    feats = model.extract_feat(inputs)
    masked = model.masked_logits(feats)
    assert set(masked) == {(), ('audio', ), ('visual', ),
                           ('audio', 'visual')}
    torch.testing.assert_close(masked[('audio', 'visual')], logits)
    torch.testing.assert_close(masked[()][0], model.fusion.fc.bias)
    losses = model(inputs, samples([0, 1, 2]), mode='loss')
    assert set(losses) == {'loss_cls'} and losses['loss_cls'] > 0


def test_predict_reads_no_labels_and_reports_modalities():
    model = tiny_classifier().eval()
    inputs = tiny_inputs()
    with torch.no_grad():
        with_labels = model(inputs, samples([0, 1, 2]), mode='predict')
        without = model(inputs, None, mode='predict')
    for a, b in zip(with_labels, without):
        torch.testing.assert_close(a.pred_score, b.pred_score)
        assert set(a.modality_scores) == {'audio_mask', 'visual_mask',
                                          'audio_decomp', 'visual_decomp'}
        assert set(a.subset_labels) == {'audio+visual', 'audio', 'visual',
                                        'none'}
        assert int(a.subset_labels['audio+visual']) == int(a.pred_label)


def test_sample_masks_reach_the_fusion():
    model = tiny_classifier().eval()
    inputs = tiny_inputs()
    masks = [[True, True], [True, False], [False, True]]
    with torch.no_grad():
        out = model(inputs, samples([0, 1, 2], masks), mode='tensor')
        feats = model.extract_feat(inputs)
        masked = model.masked_logits(feats)
    torch.testing.assert_close(out[0], masked[('audio', 'visual')][0])
    torch.testing.assert_close(out[1], masked[('audio', )][1])
    torch.testing.assert_close(out[2], masked[('visual', )][2])


def test_non_decomposable_fusion_gets_detached_aux_heads():
    model = tiny_classifier('GatedFusion', )
    inputs = tiny_inputs()
    losses = model(inputs, samples([0, 1, 2]), mode='loss')
    assert 'loss_aux' in losses
    losses['loss_aux'].backward()
    assert all(p.grad is None for p in model.encoders.parameters())
    assert model.aux_heads['audio'].weight.grad is not None
    model.eval()
    with torch.no_grad():
        pred = model(inputs, None, mode='predict')
    assert 'audio_aux' in pred[0].modality_scores


def test_modality_weights_are_saved_and_used():
    model = tiny_classifier().eval()
    inputs = tiny_inputs()
    base = model(inputs)
    model.modality_weights.copy_(torch.tensor([1.0, 0.0]))
    feats = model.extract_feat(inputs)
    only_audio = model.masked_logits(
        feats, [('audio', )], weights=torch.ones(2))[('audio', )]
    torch.testing.assert_close(model(inputs), only_audio)
    assert not torch.allclose(model(inputs), base)
    state = model.state_dict()
    assert torch.equal(state['modality_weights'], torch.tensor([1.0, 0.0]))


def test_unimodal_classifier():
    model = MultimodalClassifier(
        encoders=dict(audio=dict(type='SpectrogramResNet', base_channels=4)),
        fusion=dict(type='ConcatFusion'), num_classes=K,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))
    out = model(dict(audio=torch.randn(2, 1, 16, 12)), mode='tensor')
    assert out.shape == (2, K)


def test_modalities_select_the_encoders_and_their_statistics():
    # What configs/unimodal/ does with a joint config: nothing copied.
    two = dict(audio=dict(type='SpectrogramResNet', base_channels=4),
               visual=dict(type='FrameResNet', base_channels=4))
    stats = dict(type='MultimodalDataPreprocessor', modalities=dict(
        audio=dict(mean=[0.5], std=[2.0]), visual=dict()))
    model = MultimodalClassifier(encoders=two, fusion=dict(type='ConcatFusion'),
                                 num_classes=K, data_preprocessor=stats,
                                 modalities=('audio', ))
    assert model.modalities == ('audio', ) and list(model.encoders) == [
        'audio']
    assert model.data_preprocessor.modalities == ('audio', )
    assert float(model.data_preprocessor.audio_std) == 2.0
    out = model(dict(audio=torch.randn(2, 1, 16, 12)), mode='tensor')
    assert out.shape == (2, K)
    assert configured_modalities(dict(encoders=two, modalities=['visual'])) \
        == ('visual', )
    assert configured_modalities(dict(encoders=two)) == ('audio', 'visual')
    with pytest.raises(ValueError, match="no encoder for \\['text'\\]"):
        MultimodalClassifier(encoders=two, fusion=dict(type='ConcatFusion'),
                             num_classes=K, modalities=('text', ))


def test_classifier_builds_from_registry():
    model = MODELS.build(dict(
        type='MultimodalClassifier',
        encoders=dict(audio=dict(type='SpectrogramResNet', base_channels=4),
                      visual=dict(type='FrameResNet', base_channels=4)),
        fusion=dict(type='FiLMFusion', condition='visual'),
        num_classes=K,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor')))
    assert model(tiny_inputs(), mode='tensor').shape == (3, K)


def test_nan_loss_names_the_culprit():
    model = tiny_classifier()
    losses = {'loss_cls': torch.tensor(1.0),
              'loss_extra': torch.tensor(float('nan'))}
    with pytest.raises(FloatingPointError, match='loss_extra'):
        model.parse_losses(losses)
    loss, _ = model.parse_losses({'loss_cls': torch.tensor(2.0)})
    assert float(loss) == 2.0


@pytest.mark.parametrize('cls', [ConcatFusion, FiLMFusion])
def test_fill_mean_tracks_present_rows_once_per_forward(cls):
    """Under modality dropout the running mean is the mean of the rows where
    the modality is present, and masked passes over the same batch (subset
    logits) leave it alone."""
    fusion = build_fusion(cls, fill='mean', fill_momentum=1.0).train()
    feats = make_feats(b=4)
    present = torch.tensor([[True, False], [True, True], [False, True],
                            [True, False]])
    fusion(feats, present=present)
    for i, m in enumerate(fusion.modalities):
        torch.testing.assert_close(getattr(fusion, f'fill_mean_{m}'),
                                   feats[m][present[:, i]].mean(0))
    before = {m: getattr(fusion, f'fill_mean_{m}').clone()
              for m in fusion.modalities}
    fusion.subset_logits(make_feats(b=4, seed=1),
                         [('audio', ), ('visual', ), ()])
    for m in fusion.modalities:
        torch.testing.assert_close(getattr(fusion, f'fill_mean_{m}'),
                                   before[m])


@pytest.mark.parametrize('cls', [ConcatFusion, SumFusion])
def test_decompose_leaves_the_fill_mean_alone(cls):
    """Only the fused forward tracks the running mean: a balancer reading
    decomposed logits in training (OGM-GE) must not update it twice."""
    fusion = build_fusion(cls, fill='mean').train()
    fusion.decompose(make_feats())
    assert all(not getattr(fusion, f'fill_mean_{m}').any()
               for m in fusion.modalities)
    fusion(make_feats())
    assert getattr(fusion, f'fill_mean_{fusion.modalities[0]}').any()
