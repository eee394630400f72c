"""MMCosine's head: logits invariant to feature and class-weight norms,
each modality's term bounded by the scale, no bias, a masked modality
contributing nothing."""
import pytest
import torch

from armlab.models import MultimodalClassifier
from armlab.models.fusions import CosineFusion

K = 4
DIMS = dict(audio=6, visual=3)


def build(**kw):
    torch.manual_seed(0)
    return CosineFusion(modalities=tuple(DIMS), in_channels=DIMS,
                        num_classes=K, **kw)


def feats(b=5, seed=1):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(b, d, generator=g) for m, d in DIMS.items()}


def test_logits_ignore_feature_and_class_weight_norms():
    fusion = build()
    h = feats()
    z = fusion(h)
    rescaled = {'audio': h['audio'] * 7.0,
                'visual': h['visual'] * (torch.rand(5, 1) * 3 + 0.1)}
    torch.testing.assert_close(fusion(rescaled), z)
    with torch.no_grad():  # scale each class row of each modality's block
        fusion.fc.weight[:, :6] *= torch.tensor([[2.0], [0.5], [3.0], [1.0]])
        fusion.fc.weight[:, 6:] *= 9.0
    torch.testing.assert_close(fusion(h), z)


def test_terms_are_bounded_sum_to_the_logits_and_there_is_no_bias():
    fusion = build(scale=15.0)
    h = feats()
    parts = fusion.decompose(h)
    assert all(p.abs().max() <= 15.0 + 1e-5 for p in parts.values())
    torch.testing.assert_close(sum(parts.values()), fusion(h))
    assert fusion.fc.bias is None
    assert [n for n, _ in fusion.named_parameters()] == ['fc.weight']
    # Concat would let a large-norm modality dominate; here it cannot.
    big = {'audio': h['audio'] * 1e3, 'visual': h['visual']}
    assert fusion.decompose(big)['audio'].abs().max() <= 15.0 + 1e-3
    with pytest.raises(ValueError, match='scale'):
        build(scale=0)


def test_a_masked_modality_contributes_nothing():
    fusion = build()
    h = feats()
    masked = fusion.subset_logits(h, [('visual', ), ()])
    torch.testing.assert_close(masked[('visual', )],
                               fusion.decompose(h)['visual'])
    torch.testing.assert_close(masked[()], torch.zeros(5, K))


def test_a_classifier_with_the_cosine_head_learns():
    torch.manual_seed(0)
    model = MultimodalClassifier(
        encoders=dict(audio=dict(type='MLPEncoder', in_channels=3,
                                 out_channels=6),
                      visual=dict(type='MLPEncoder', in_channels=2,
                                  out_channels=3)),
        fusion=dict(type='CosineFusion', scale=10.0), num_classes=K,
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor'))
    x = dict(audio=torch.randn(16, 3), visual=torch.randn(16, 2))
    y = torch.arange(16) % K
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(30):
        logits = model.fuse(model.extract_feat(x))
        loss = torch.nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.e2e
def test_mmcosine_config_trains_two_epochs(tiny_root, tmp_path):
    from conftest import REPO, tiny_options, train_in_process
    from armlab.utils.scalars import epoch_series, load_scalars
    config = REPO / 'configs' / 'mmcosine' / 'mmcosine_resnet18_avdigits.py'
    train_in_process(config, tmp_path,
                     '--cfg-options', *tiny_options(tiny_root))
    rows = load_scalars(tmp_path)
    assert epoch_series(rows, 'accuracy/top1')[0] == [1, 2]
    state = torch.load(tmp_path / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    assert 'fusion.fc.weight' in state and 'fusion.fc.bias' not in state
