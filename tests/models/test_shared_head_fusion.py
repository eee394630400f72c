"""SharedHeadFusion: one head for every modality; sum, mean, entropy (per
sample and per batch) and fixed combinations; masked and decomposed logits."""
import pytest
import torch

from armlab.models import MultimodalClassifier
from armlab.models.fusions.shared_head import SharedHeadFusion
from armlab.registry import MODELS

K, D = 5, 6
NAMES = ('audio', 'visual')


def build(**kw):
    torch.manual_seed(0)
    return SharedHeadFusion(modalities=NAMES, in_channels=dict(audio=D,
                                                               visual=D),
                            num_classes=K, **kw)


def feats(b=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(b, D, generator=g) for m in NAMES}


def test_registered_and_unequal_channels_raise():
    assert MODELS.get('SharedHeadFusion') is SharedHeadFusion
    with pytest.raises(ValueError, match='same feature size'):
        SharedHeadFusion(modalities=NAMES, in_channels=dict(audio=6,
                                                            visual=4),
                         num_classes=K)


@pytest.mark.parametrize('combine', ['sum', 'mean', 'entropy',
                                     'entropy_batch', 'fixed'])
def test_masked_single_modality_is_the_unimodal_head(combine):
    fusion = build(combine=combine, fixed_weights=[0.3, 0.7])
    h = feats()
    masked = fusion.subset_logits(h, [('audio', ), ('visual', )])
    for m in NAMES:
        torch.testing.assert_close(masked[(m, )], fusion.head(h[m]))
    # The generic per-sample path (a presence mask) agrees.
    present = torch.tensor([[True, False], [False, True]] * 2)
    z = fusion(h, present=present)
    torch.testing.assert_close(z[0], fusion.head(h['audio'])[0])
    torch.testing.assert_close(z[1], fusion.head(h['visual'])[1])


def test_sum_is_head_of_summed_features_and_fast_path_matches():
    fusion = build(fill='learned')
    with torch.no_grad():
        for token in fusion.fill_tokens.values():
            token.normal_()
    h = feats()
    torch.testing.assert_close(fusion(h),
                               fusion.head(h['audio'] + h['visual']))
    subsets = [(), ('audio', ), ('visual', ), ('audio', 'visual')]
    weights = torch.tensor([1.5, 0.5])
    fast = fusion.subset_logits(h, subsets, weights)
    slow = super(SharedHeadFusion, fusion).subset_logits(h, subsets, weights)
    for s in subsets:
        torch.testing.assert_close(fast[s], slow[s])


@pytest.mark.parametrize('combine', ['sum', 'mean', 'entropy',
                                     'entropy_batch', 'fixed'])
def test_decomposition_sums_to_the_fused_logits(combine):
    fusion = build(combine=combine, fixed_weights=dict(audio=1, visual=3))
    h = feats()
    parts = fusion.decompose(h)
    torch.testing.assert_close(sum(parts.values()), fusion(h))
    if combine == 'sum':  # the bias splits evenly
        zero = {m: torch.zeros_like(v) for m, v in h.items()}
        for z in fusion.decompose(zero).values():
            torch.testing.assert_close(z[0], fusion.fc.bias / 2)


def test_entropy_weights_favour_the_confident_modality():
    fusion = build(combine='entropy')
    with torch.no_grad():
        fusion.fc.weight.zero_()
        fusion.fc.bias.zero_()
        fusion.fc.weight[0, 0] = 10.0  # feature 0 -> confident class 0
    h = {'audio': torch.zeros(2, D), 'visual': torch.zeros(2, D)}
    h['audio'][0, 0] = 1.0  # sample 0: audio confident, visual flat
    h['visual'][1, 0] = 1.0  # sample 1: the reverse
    logits = torch.stack([fusion.head(h[m]) for m in NAMES], dim=1)
    w = fusion.combination_weights(logits)
    # Weights softmax(-H): the flat side has entropy log K.
    confident = -(logits[0, 0].softmax(0) * logits[0, 0].log_softmax(0)).sum()
    expected = torch.sigmoid(torch.log(torch.tensor(float(K))) - confident)
    assert expected > 0.8
    torch.testing.assert_close(w[0, 0], expected)
    torch.testing.assert_close(w[1, 1], expected)
    torch.testing.assert_close(w.sum(1), torch.ones(2))
    z = fusion(h)
    torch.testing.assert_close(z, (w.unsqueeze(-1) * logits).sum(1))
    # Flat logits on both sides: equal weights.
    torch.testing.assert_close(
        fusion.combination_weights(torch.zeros(1, 2, K)),
        torch.full((1, 2), 0.5))


def test_mean_is_amsts_average_of_unimodal_logits():
    """'mean' averages H(h_m), so it adds the bias M times (over M) where
    'sum' adds it once: the two can disagree on the argmax."""
    fusion = build(combine='mean')
    h = feats()
    mean = (fusion.head(h['audio']) + fusion.head(h['visual'])) / 2
    torch.testing.assert_close(fusion(h), mean)
    with torch.no_grad():
        fusion.fc.bias.copy_(torch.arange(K, dtype=torch.float) * 3)
    summed = fusion.fc.weight @ (h['audio'] + h['visual']).t()
    torch.testing.assert_close(fusion(h).argmax(1),
                               (summed.t() + 2 * fusion.fc.bias).argmax(1))
    fusion.set_combine('sum')
    torch.testing.assert_close(fusion(h), summed.t() + fusion.fc.bias)


def test_entropy_batch_gives_one_weight_per_batch_from_the_batch_axis():
    """The released MLA rule: softmax over the batch axis, so every sample
    of a batch shares the weights and a sample's prediction moves with its
    batch-mates; the per-sample rule does not."""
    fusion = build(combine='entropy_batch')
    h = feats(b=6)
    logits = torch.stack([fusion.head(h[m]) for m in NAMES], dim=1)
    w = fusion.combination_weights(logits)
    torch.testing.assert_close(w, w[:1].expand_as(w))
    p = logits.softmax(0)
    entropy = -(p * p.log()).sum((0, 2))
    torch.testing.assert_close(w[0], torch.softmax(-entropy, 0))
    first = fusion(h)[:3]
    alone = fusion({m: v[:3] for m, v in h.items()})
    assert not torch.allclose(first, alone)
    fusion.set_combine('entropy')
    torch.testing.assert_close(
        fusion(h)[:3], fusion({m: v[:3] for m, v in h.items()}))


def test_fixed_weights_renormalise_and_validate():
    fusion = build(combine='fixed', fixed_weights=[0.3, 0.7])
    h = feats()
    expected = 0.3 * fusion.head(h['audio']) + 0.7 * fusion.head(h['visual'])
    torch.testing.assert_close(fusion(h), expected)
    with pytest.raises(ValueError, match='needs fixed_weights'):
        fusion.set_combine('fixed')
    with pytest.raises(ValueError, match='positive'):
        fusion.set_combine('fixed', [1.0, 0.0])
    with pytest.raises(ValueError, match='unknown combine'):
        fusion.set_combine('max')


def test_classifier_predicts_with_entropy_combination():
    model = MultimodalClassifier(
        encoders=dict(audio=dict(type='MLPEncoder', in_channels=3,
                                 out_channels=D),
                      visual=dict(type='MLPEncoder', in_channels=2,
                                  out_channels=D)),
        fusion=dict(type='SharedHeadFusion', combine='entropy'),
        num_classes=K,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))
    inputs = dict(audio=torch.randn(3, 3), visual=torch.randn(3, 2))
    out = model.predict(inputs)
    f = model.extract_feat(inputs)
    torch.testing.assert_close(out[0].modality_scores['audio_mask'],
                               model.fusion.head(f['audio'])[0].softmax(0))
    torch.testing.assert_close(out[0].pred_score,
                               model.fusion(f)[0].softmax(0))
