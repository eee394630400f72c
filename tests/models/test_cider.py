"""CIDer: the subset attention sees only its subset, the position rules, the
backdoor-adjusted head against its formula (training and evaluation
strata), the prototypes from the training split, MSSD's mask and terms,
MSSD with every term off equal to two plain steps (and not equal with one
on), the refusals, and one epoch plus a robustness sweep on a tiny
CMU-MOSI pickle."""
import copy
import math

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from conftest import REPO, train_in_process
from helpers.raw_text_media import run_script
from helpers.sentiment_pickles import loader_options, prepare_tiny_mosi

from armlab.balancers.mssd import (attention_loss, drop_steps,
                                   reconstruction_loss, representation_loss)
from armlab.engine.class_prototype_hook import valid_step_mean
from armlab.models.backbones.word_aligned_attention import \
    WordAlignedAttention
from armlab.models.classifiers.cider import drop_ends
from armlab.models.backbones.multimodal_transformer import (
    MultimodalTransformer, SubsetAttention, modality_subsets)
from armlab.registry import MODELS
from armlab.utils.scalars import load_scalars

DIMS = dict(audio=5, visual=7, text=9)
K = 3
CONFIG = REPO / 'configs' / 'cider' / 'cider_sequence_mosi.py'


def make_model(balancer=None, adjust=True, dims=DIMS, word_aligned=None,
               **transformer):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='CIDerClassifier', word_aligned=word_aligned,
        encoders={m: dict(type='GRUSequenceEncoder', in_channels=d,
                          out_channels=8) for m, d in dims.items()},
        transformer=dict(dict(num_layers=1, num_heads=2, relu_dropout=0.0,
                              res_dropout=0.0, embed_dropout=0.0),
                         **transformer),
        fusion=dict(type='BackdoorAdjustedFusion', adjust=adjust,
                    prototype_channels=dims, prototype_width=4,
                    out_dropout=0.0),
        num_classes=K, aux_heads=False,
        balancer=balancer or dict(type='JointTraining'),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor')))
    if adjust:
        torch.manual_seed(3)
        model.fusion.set_prototypes(
            {m: torch.randn(K, d) for m, d in dims.items()},
            torch.tensor([2.0, 1.0, 1.0]))
    return model


def inputs(batch=4, steps=6, dims=DIMS):
    torch.manual_seed(1)
    x = {m: torch.randn(batch, steps, d) + 0.1 for m, d in dims.items()}
    x['audio'][0, -2:] = 0  # padding rows
    return x


def samples(n=4):
    return [DataSample().set_gt_label(i % K) for i in range(n)]


def test_subsets_are_every_non_empty_combination_largest_first():
    subsets = modality_subsets(('t', 'a', 'v'))
    assert len(subsets) == 7 and subsets[0] == ('t', 'a', 'v')
    assert subsets[-3:] == [('t', ), ('a', ), ('v', )]


def test_a_subsets_view_reads_only_its_own_tokens():
    torch.manual_seed(0)
    attn = SubsetAttention(('a', 'v', 't'), 8, 2).eval()
    owner = torch.tensor([0, 0, 0, 1, 1, 2, 2])
    x = torch.randn(2, 7, 8)
    views = {}

    def keep(module, args, out):
        views.setdefault(module, []).append(out)
    handles = [attn.out[k].register_forward_hook(keep) for k in attn.out]
    attn(x, owner)
    y = x.clone()
    y[:, 5:] = torch.randn(2, 2, 8)  # change the text tokens only
    attn(y, owner)
    for h in handles:
        h.remove()
    by_name = {k: views[attn.out[k]] for k in attn.out}
    # the audio-visual view (rows of a and v) is unchanged; the full one not
    av_before, av_after = by_name['a_v']
    assert torch.allclose(av_before[:, :5], av_after[:, :5], atol=1e-6)
    full_before, full_after = by_name['a_v_t']
    assert not torch.allclose(full_before[:, :5], full_after[:, :5])


def test_time_positions_do_not_depend_on_the_batch_but_the_quirk_does():
    torch.manual_seed(0)
    seqs = {m: torch.randn(3, 4, 8) for m in ('a', 'v')}
    swapped = {m: s.flip(0) for m, s in seqs.items()}
    for positions, same in (('time', True), ('batch', False)):
        torch.manual_seed(0)
        mct = MultimodalTransformer(('a', 'v'), 8, num_layers=1, num_heads=2,
                                    embed_dropout=0.0, relu_dropout=0.0,
                                    res_dropout=0.0,
                                    positions=positions).eval()
        out, scores = mct(seqs)
        out_swapped, _ = mct(swapped)
        assert scores.shape == (3, 2, 8, 8)
        assert torch.allclose(out['a'][0], out_swapped['a'][2],
                              atol=1e-5) == same
    with pytest.raises(ValueError, match='positions'):
        MultimodalTransformer(('a', 'v'), 8, positions='learned')


def test_backdoor_head_is_the_prior_mixture_of_the_class_heads():
    model = make_model()
    fusion = model.fusion
    feats = model.extract_feat(inputs())
    r = fusion.represent([feats[m] for m in model.modalities])

    def formula(prior, strata):
        encoded = torch.cat([fusion.encoders[m](strata[m])
                             for m in model.modalities], 1)
        total = 0
        for c in range(K):
            u = torch.cat([r, encoded[c].expand(r.shape[0], -1)], 1)
            p = (u @ fusion.class_weight[c].t() +
                 fusion.class_bias[c]).softmax(1)
            total = total + prior[c] * p
        return total.log()

    protos = {m: getattr(fusion, f'prototypes_{m}') for m in model.modalities}
    fusion.train()
    prior = torch.tensor([0.5, 0.25, 0.25])
    assert torch.allclose(fusion.head_logits(r), formula(prior, protos),
                          atol=1e-5)
    fusion.eval()  # uniform prior, the prior-weighted mean prototype
    mean = {m: (prior[:, None] * p).sum(0).expand_as(p)
            for m, p in protos.items()}
    assert torch.allclose(fusion.head_logits(r),
                          formula(torch.full((K, ), 1 / K), mean), atol=1e-5)
    assert torch.allclose(fusion.head_logits(r).exp().sum(1),
                          torch.ones(r.shape[0]), atol=1e-5)


def test_the_adjustment_changes_the_output_and_can_be_switched_off():
    on, off = make_model(), make_model(adjust=False)
    off.load_state_dict(on.state_dict(), strict=False)  # all but the head
    on.eval(), off.eval()
    x = inputs()
    with torch.no_grad():
        assert torch.equal(on.extract_feat(x)['audio'],
                           off.extract_feat(x)['audio'])
        assert not torch.allclose(on(x), off(x))
        r = off.fusion.represent([off.extract_feat(x)[m]
                                  for m in off.modalities])
        assert torch.allclose(off(x), off.fusion.head(r))


def test_prototype_refusals():
    model = make_model()
    model.fusion.prototypes_ready.fill_(False)
    with pytest.raises(RuntimeError, match='ClassPrototypeHook'):
        model(inputs())
    with pytest.raises(ValueError, match='prototypes of'):
        model.fusion.set_prototypes(
            {m: torch.zeros(K, d + 1) for m, d in DIMS.items()},
            torch.ones(K))
    with pytest.raises(ValueError, match='prototype_channels'):
        MODELS.build(dict(type='BackdoorAdjustedFusion',
                          modalities=('a', 'v'),
                          in_channels=dict(a=4, v=4), num_classes=K))


def test_valid_step_mean_skips_padding():
    x = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]]])
    assert valid_step_mean(x).tolist() == [[2.0, 3.0]]


def test_drop_steps_drops_valid_steps_only_and_keeps_the_ends():
    torch.manual_seed(0)
    x = torch.randn(64, 20, 3)
    x[:, 15:] = 0  # padding
    masked, dropped = drop_steps(x, 0.5, keep_ends=True)
    assert not dropped[:, 15:].any()
    assert not dropped[:, 0].any() and not dropped[:, 14].any()
    assert float(dropped[:, 1:14].float().mean()) == pytest.approx(0.5,
                                                                   abs=0.05)
    assert torch.equal(masked[dropped], torch.zeros_like(masked[dropped]))
    assert torch.equal(masked[~dropped], x[~dropped])
    _, none = drop_steps(x, 0.0)
    assert not none.any()


def test_mssd_terms():
    torch.manual_seed(0)
    r = torch.randn(4, 6)
    assert float(representation_loss(r, r)) == pytest.approx(0.0, abs=1e-6)
    assert float(representation_loss(-r, r)) == pytest.approx(2.0)
    s = torch.randn(2, 3, 5, 5)
    assert float(attention_loss(s, s)) == pytest.approx(0.0, abs=1e-6)
    t = torch.randn(2, 3, 5, 5)
    p = t.softmax(-1)
    kl = (p * (p.log() - s.log_softmax(-1))).sum() / 6
    assert float(attention_loss(s, t)) == pytest.approx(float(kl), rel=1e-5)
    pred, target = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    dropped = torch.tensor([[True, False, False, False],
                            [False, False, True, False]])
    loss = reconstruction_loss(pred, target, dropped)
    changed = pred.clone()
    changed[~dropped] += 5.0  # steps that were not dropped do not count
    assert float(reconstruction_loss(changed, target, dropped)) == \
        pytest.approx(float(loss))


def step(model, data):
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    return model.train_step(data, wrapper)


def test_mssd_with_every_term_off_is_two_plain_steps():
    off = dict(type='MSSDBalancer', drop_rate=0.0, rep_weight=0.0,
               attn_weight=0.0, rec_weight=0.0, accumulate=False)
    data = dict(inputs=inputs(), data_samples=samples())
    mssd = make_model(off).train()
    plain = make_model().train()
    logs = step(mssd, copy.deepcopy(data))
    for _ in range(2):
        step(plain, copy.deepcopy(data))
    for (name, a), (_, b) in zip(mssd.named_parameters(),
                                 plain.named_parameters()):
        assert torch.allclose(a, b, atol=1e-6), name
    assert {'loss_full', 'loss_masked_cls'} <= set(logs)
    # one term on: the parameters move elsewhere
    rep = make_model(dict(off, rep_weight=0.5)).train()
    step(rep, copy.deepcopy(data))
    assert any(not torch.allclose(a, b, atol=1e-6) for a, b in zip(
        rep.parameters(), plain.parameters()))


def test_mssd_refuses_another_model():
    model = MODELS.build(dict(
        type='MultimodalClassifier',
        encoders=dict(a=dict(type='MLPEncoder', in_channels=3,
                             out_channels=4)),
        fusion=dict(type='ConcatFusion'), num_classes=K,
        balancer=dict(type='MSSDBalancer'),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor')))
    data = dict(inputs=dict(a=torch.randn(2, 3)), data_samples=samples(2))
    with pytest.raises(TypeError, match='CIDerClassifier'):
        step(model, data)


@pytest.fixture(scope='module')
def mosi(tmp_path_factory):
    return prepare_tiny_mosi(tmp_path_factory.mktemp('cider_mosi'))


@pytest.mark.filterwarnings('ignore:modality_information')  # 9 samples
def test_cider_trains_one_epoch_on_mosi_and_is_swept(mosi, tmp_path):
    opts = loader_options(mosi) + ['model.transformer.num_layers=1']
    train_in_process(CONFIG, tmp_path / 'work', '--cfg-options', *opts,
                     'train_cfg.max_epochs=1',
                     'default_hooks.logger.interval=1')
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    assert 'ClassPrototypeHook: prototypes of 9 training samples' in log
    rows = [r for r in load_scalars(tmp_path / 'work') if 'loss_rep' in r]
    assert rows and all(0 < r['mssd_dropped'] < 1 for r in rows)
    assert {'loss_full', 'loss_attn', 'loss_rec'} <= set(rows[0])
    state = torch.load(tmp_path / 'work' / 'epoch_1.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    assert bool(state['fusion.prototypes_ready'])
    code, stdout = run_script(
        'tools/robustness.py', CONFIG, tmp_path / 'work' / 'epoch_1.pth',
        '--protocol', 'TMFM', '--rates', '0,0.5', '--work-dir',
        tmp_path / 'rob', '--cfg-options', *opts)
    assert code == 0, stdout
    assert list((tmp_path / 'rob').rglob('*.json'))


def test_word_alignment_reads_valid_steps_only():
    torch.manual_seed(0)
    wsam = WordAlignedAttention(4)
    query, source = torch.randn(2, 5, 4), torch.randn(2, 7, 4)
    asks = torch.ones(2, 5, dtype=torch.bool)
    asks[1, 0] = False  # e.g. [CLS]
    valid = torch.ones(2, 7, dtype=torch.bool)
    valid[0, -2:] = False  # padding
    out = wsam(query, source, asks, valid)
    assert out.shape == (2, 5, 4)
    changed = source.clone()
    changed[0, -2:] += 10.0
    assert torch.allclose(wsam(query, changed, asks, valid), out)
    changed[0, 0] += 10.0  # a valid step does count
    assert not torch.allclose(wsam(query, changed, asks, valid)[0], out[0])
    # a query row that asks nothing gets no value: out_proj of zero
    assert torch.allclose(out[1, 0], wsam.out_proj.bias)
    with pytest.raises(ValueError, match='same B and d'):
        wsam(query, torch.randn(3, 7, 4), asks, valid)


def test_drop_ends_removes_the_first_and_last_valid_step():
    valid = torch.tensor([[True, True, True, True, False],
                          [False, False, False, False, False],
                          [True, True, False, False, False]])
    assert drop_ends(valid).tolist() == [
        [False, True, True, False, False], [False] * 5, [False] * 5]


UNALIGNED = dict(text=6, audio=9, visual=11)


def unaligned_inputs(batch=4):
    torch.manual_seed(1)
    x = {m: torch.randn(batch, UNALIGNED[m], d) + 0.1
         for m, d in DIMS.items()}
    x['audio'][0, -3:] = 0  # padding rows
    return x


def test_word_aligned_cider_puts_every_modality_on_the_words():
    aligned = dict(anchor='text', steps=UNALIGNED)
    model = make_model(dict(type='MSSDBalancer'), word_aligned=aligned)
    enc = model.encode(unaligned_inputs())
    assert {m: t.shape[1] for m, t in enc.tokens.items()} == dict(
        text=6, audio=6, visual=6)
    rebuilt = model.reconstruct(enc.tokens)
    assert {m: tuple(r.shape[1:]) for m, r in rebuilt.items()} == {
        m: (UNALIGNED[m], d) for m, d in DIMS.items()}
    logs = step(model.train(), dict(inputs=unaligned_inputs(),
                                    data_samples=samples()))
    assert all(torch.isfinite(v) for v in logs.values())
    assert 'loss_rec' in logs


def test_word_alignment_refusals():
    with pytest.raises(ValueError, match=r"steps needs the step count of "
                       r"\['visual'\]"):
        make_model(word_aligned=dict(steps=dict(text=6, audio=9)))
    with pytest.raises(ValueError, match="anchor 'words'"):
        make_model(word_aligned=dict(anchor='words', steps=UNALIGNED))
    with pytest.raises(TypeError, match='GRUSequenceEncoder'):
        MODELS.build(dict(
            type='CIDerClassifier',
            encoders={m: dict(type='SequenceEncoder', in_channels=d,
                              out_channels=8) for m, d in DIMS.items()},
            fusion=dict(type='ConcatFusion'), num_classes=K))


@pytest.mark.filterwarnings('ignore:modality_information')  # 9 samples
def test_unaligned_cider_trains_one_epoch_on_native_steps(tmp_path_factory,
                                                          tmp_path):
    root = prepare_tiny_mosi(tmp_path_factory.mktemp('cider_unaligned'),
                             aligned=False)
    config = REPO / 'configs' / 'cider' / 'cider_sequence_mosi-unaligned.py'
    train_in_process(config, tmp_path / 'work', '--cfg-options',
                     *loader_options(root), 'model.transformer.num_layers=1',
                     'train_cfg.max_epochs=1')
    rows = [r for r in load_scalars(tmp_path / 'work') if 'loss_rec' in r]
    assert rows and all(math.isfinite(r['loss_rec']) for r in rows)
