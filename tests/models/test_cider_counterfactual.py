"""MACI's counterfactual text: the bias words and the debiased score.

The bias words against counts made by hand (cv threshold, specials, ties in
first-seen order, the top-k cut, a token no cv class uses); the score
against log P - tau log P_cf computed from two plain forwards; tau 0 is the
plain model; the refusals; one epoch of the counterfactual config on a tiny
MMSA pickle, whose checkpoint carries the bias words into tools/test.py.
"""
import json
import math

import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from conftest import REPO, load_tool, train_in_process
from helpers.raw_text_media import run_script
from helpers.sentiment_pickles import loader_options, prepare_tiny_mosi

from armlab.datasets.text import (bias_token_ids, counterfactual_keep,
                                  read_token_ids)
from armlab.registry import MODELS

DIMS = dict(audio=5, visual=7, text=9)
K = 3
CONFIG = REPO / 'configs' / 'cider' / 'cider-cf_sequence_mosi.py'


def test_bias_words_follow_the_cv_and_count_rule():
    samples = [
        (np.array([101, 7, 7, 8, 9, 102, 0]), 0),
        (np.array([101, 7, 8, 9, 102]), 2),
        (np.array([101, 8, 9, 11, 102]), 2),
        (np.array([101, 12, 12, 12, 102]), 1),  # only neutral: no cv
        (np.array([101, 10, 102]), 0),
        (np.array([101, 10, 102]), 2),
    ]
    # n(0), n(2): 7 -> (2, 1), cv 1/3; 8 -> (1, 2), 1/3; 9 -> (1, 2), 1/3;
    # 10 -> (1, 1), 0; 11 -> (0, 1), 1. Totals 7: 3, 8: 3, 9: 3, 11: 1.
    ids = bias_token_ids(samples, K, top_k=3, min_cv=0.1)
    assert ids.tolist() == [7, 8, 9]  # ties of 3: first-seen order
    assert bias_token_ids(samples, K, top_k=10).tolist() == [7, 8, 9, 11]
    assert bias_token_ids(samples, K, min_cv=0.5).tolist() == [11]
    # with every class counted, the neutral-only token has a cv too
    assert 12 in bias_token_ids(samples, K, cv_classes=(0, 1, 2)).tolist()
    with pytest.raises(ValueError, match='label 5'):
        bias_token_ids([(np.array([7]), 5)], K)


def test_the_counterfactual_keeps_specials_and_bias_tokens_only():
    ids = torch.tensor([[101, 7, 8, 102, 0], [101, 100, 9, 102, 0]])
    keep = counterfactual_keep(ids, torch.tensor([8, 9]))
    assert keep.tolist() == [[True, False, True, True, True],
                             [True, True, True, True, True]]


def test_token_id_files_are_read_and_refused_by_name(tmp_path):
    good = tmp_path / 'ids.npy'
    np.save(good, np.stack([np.arange(5), np.ones(5), np.zeros(5)]).astype(
        np.int64))
    assert read_token_ids(str(good)).tolist() == [0, 1, 2, 3, 4]
    bad = tmp_path / 'bad.npy'
    np.save(bad, np.zeros((2, 2, 2), np.float32))
    with pytest.raises(ValueError, match='bad.npy.*token ids'):
        read_token_ids(str(bad))


def make_model(tau=1.0):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='CIDerClassifier',
        encoders={m: dict(type='GRUSequenceEncoder', in_channels=d,
                          out_channels=8) for m, d in DIMS.items()},
        transformer=dict(num_layers=1, num_heads=2, embed_dropout=0.0),
        fusion=dict(type='ConcatFusion'), num_classes=K, aux_heads=False,
        counterfactual=dict(tau=tau, top_k=4),
        data_preprocessor=dict(type='mmengine.BaseDataPreprocessor')))
    return model.eval()


def batch(n=3, steps=5):
    torch.manual_seed(1)
    inputs = {m: torch.randn(n, steps, d) + 0.1 for m, d in DIMS.items()}
    ids = torch.tensor([[101, 7, 8, 9, 102], [101, 9, 9, 102, 0],
                        [101, 11, 7, 102, 0]])
    samples = [DataSample(metainfo=dict(text_ids=ids[i].numpy()))
               for i in range(n)]
    return inputs, samples, ids


def test_the_score_subtracts_tau_times_the_counterfactual():
    model = make_model(tau=0.7)
    model.set_bias_ids(torch.tensor([9]))
    inputs, samples, ids = batch()
    with torch.no_grad():
        out = model.predict(inputs, samples)
        log_p = model.fuse(model.extract_feat(inputs)).log_softmax(1)
        cf = dict(inputs)
        cf['text'] = inputs['text'] * counterfactual_keep(
            ids, torch.tensor([9]))[..., None]
        log_cf = model.fuse(model.extract_feat(cf)).log_softmax(1)
    expected = (log_p - 0.7 * log_cf).softmax(1)
    got = torch.stack([ds.pred_score for ds in out])
    assert torch.allclose(got, expected, atol=1e-6)
    # the counterfactual text really differs from the factual one
    assert not torch.allclose(log_cf, log_p)
    # tau 0: the plain model, which needs no ids
    plain = make_model(tau=0.0)
    with torch.no_grad():
        base = plain.predict(inputs, [DataSample() for _ in range(3)])
    assert torch.allclose(torch.stack([ds.pred_score for ds in base]),
                          log_p.softmax(1), atol=1e-6)


def test_counterfactual_refusals():
    model = make_model()
    inputs, samples, _ = batch()
    with pytest.raises(RuntimeError, match='BiasWordsHook'):
        model.predict(inputs, samples)
    model.set_bias_ids(torch.tensor([9]))
    with pytest.raises(KeyError, match='LoadTokenIds'):
        model.predict(inputs, [DataSample() for _ in range(3)])
    with pytest.raises(ValueError, match='5 bias ids for a buffer of 4'):
        model.set_bias_ids(torch.arange(5))
    with pytest.raises(ValueError, match="unknown keys \\['taus'\\]"):
        MODELS.build(dict(
            type='CIDerClassifier',
            encoders={m: dict(type='GRUSequenceEncoder', in_channels=d,
                              out_channels=8) for m, d in DIMS.items()},
            fusion=dict(type='ConcatFusion'), num_classes=K,
            counterfactual=dict(taus=1.0)))


@pytest.mark.filterwarnings('ignore:modality_information')  # 9 samples
def test_counterfactual_config_trains_and_tests(tmp_path_factory, tmp_path):
    root = prepare_tiny_mosi(tmp_path_factory.mktemp('cider_cf'))
    opts = loader_options(root) + ['model.transformer.num_layers=1']
    train_in_process(CONFIG, tmp_path / 'work', '--cfg-options', *opts,
                     'train_cfg.max_epochs=1')
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    assert 'BiasWordsHook:' in log and 'bias tokens from 9 training' in log
    state = torch.load(tmp_path / 'work' / 'epoch_1.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    assert bool(state['bias_ready']) and int((state['bias_ids'] >= 0).sum())
    out = tmp_path / 'tau.json'
    code, stdout = run_script('tools/analysis/counterfactual_tau.py', CONFIG,
                              tmp_path / 'work' / 'epoch_1.pth',
                              '--taus', '0', '0.5', '1', '--work-dir',
                              tmp_path / 'test', '--out', out,
                              '--cfg-options', *opts)
    assert code == 0, stdout
    summary = json.loads(out.read_text())
    assert set(summary['val_top1']) == {'0', '0.5', '1'}
    best = max(summary['val_top1'].values())
    assert summary['val_top1'][f"{summary['tau']:g}"] == best
    assert math.isfinite(summary['test']['accuracy/top1'])
    assert f"test metrics at tau {summary['tau']:g}" in stdout


def test_tau_ties_go_to_the_smaller_value():
    tool = load_tool('tools/analysis/counterfactual_tau.py')
    assert tool.choose({0.0: 50.0, 0.5: 60.0, 1.0: 60.0}) == 0.5
    assert tool.choose({0.0: 70.0, 0.5: 60.0}) == 0.0
