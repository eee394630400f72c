"""Sentiment metrics (MOSI/MOSEI conventions) against hand-computed values,
including how each binary accuracy treats neutral samples."""
import numpy as np
import pytest

from armlab.evaluation.metrics import (classification_metrics,
                                       regression_metrics)


def test_regression_metrics_by_hand():
    target = np.array([-2.6, -0.4, 0.0, 0.0, 1.4, 2.5])
    pred = np.array([-3.4, 0.2, 0.0, -0.2, 1.6, 1.5])
    m = regression_metrics(pred, target)
    assert m['mae'] == pytest.approx((0.8 + 0.6 + 0 + 0.2 + 0.2 + 1.0) / 6)
    assert m['corr'] == pytest.approx(np.corrcoef(pred, target)[0, 1])
    # Acc-7: clip to +-3 then round half to even. pred -> -3, 0, 0, -0, 2, 2;
    # target -> -3, -0, 0, 0, 1, 2 (2.5 rounds to 2; half up would give 3
    # and a miss): 5 of 6 agree.
    assert m['acc7'] == pytest.approx(100 * 5 / 6)
    # Acc-5 (+-2): pred -2, 0, 0, -0, 2, 2; target -2, -0, 0, 0, 1, 2.
    assert m['acc5'] == pytest.approx(100 * 5 / 6)
    # Acc-3 (+-1): pred -1, 0, 0, -0, 1, 1; target -1, -0, 0, 0, 1, 1.
    assert m['acc3'] == pytest.approx(100.0)
    # Has0: (target >= 0) vs (pred >= 0) on all six: F F T T T T against
    # F T T F T T -> 4 of 6.
    assert m['acc2_has0'] == pytest.approx(100 * 4 / 6)
    # Non0: the four non-zero truths, (> 0): F F T T against F T T T -> 3/4.
    assert m['acc2_non0'] == pytest.approx(75.0)
    # Weighted F1 of the non-zero truths [F F T T] vs [F T T T]:
    # class F: P 1, R 0.5, F1 2/3; class T: P 2/3, R 1, F1 0.8; each support 2.
    assert m['f1_non0'] == pytest.approx(100 * (2 / 3 + 0.8) / 2)


def test_a_zero_prediction_is_negative_only_without_neutral_truths():
    target = np.array([1.0, -1.0])
    pred = np.array([0.0, 0.0])
    m = regression_metrics(pred, target)
    assert m['acc2_non0'] == 50.0  # 0 is not > 0: the positive one fails
    assert m['acc2_has0'] == 50.0  # 0 is >= 0: the negative one fails


def test_classification_metrics_by_hand():
    # 0 negative, 1 neutral, 2 positive.
    labels = np.array([0, 0, 1, 1, 2, 2])
    scores = np.array([[2.0, 1.0, 0.0],    # argmax 0; has0: 0 (neg)
                       [0.0, 2.0, 1.0],    # argmax 1; has0: 1 (2 > 0)
                       [0.0, 2.0, 0.0],    # argmax 1; has0: tie -> 0
                       [0.0, 1.0, 3.0],    # argmax 2; has0: 1
                       [1.0, 0.0, 3.0],    # argmax 2; has0: 1
                       [0.0, 3.0, 1.0]])   # argmax 1; has0: 1
    m = classification_metrics(scores, labels)
    # Acc-3: argmax 0 1 1 2 2 1 against 0 0 1 1 2 2: rows 0, 2, 4 agree.
    assert m['acc3'] == pytest.approx(50.0)
    # Has0: truth (label != 0) F F T T T T; prediction (s2 > s0) F T F T T T.
    assert m['acc2_has0'] == pytest.approx(100 * 4 / 6)
    # Non0: labels 0 0 2 2 (rows 0, 1, 4, 5); argmax 0 1 2 1: a neutral
    # prediction is wrong -> 2 of 4.
    assert m['acc2_non0'] == pytest.approx(50.0)
    with pytest.raises(ValueError, match='0 \\(negative\\)'):
        classification_metrics(scores, [0, 0, 1, 1, 2, 3])
    with pytest.raises(ValueError, match=r'\(N, 3\)'):
        classification_metrics(scores[:, :2], labels)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match='differ in length'):
        regression_metrics([0.1, 0.2], [0.3])
    with pytest.raises(ValueError, match='pred has non-finite'):
        regression_metrics([np.nan], [0.3])
    with pytest.raises(ValueError, match='target is empty'):
        regression_metrics([0.1], [])


def test_the_metric_reports_fused_and_masked_values_of_both_tasks():
    import torch
    from armlab.evaluation.metrics import SentimentClassificationMetric
    labels = [0, 0, 1, 1, 2, 2]
    scores = torch.tensor([[2.0, 1.0, 0.0], [0.0, 2.0, 1.0],
                           [0.0, 2.0, 0.0], [0.0, 1.0, 3.0],
                           [1.0, 0.0, 3.0], [0.0, 3.0, 1.0]]).softmax(1)
    audio = torch.eye(3)[[0, 0, 1, 1, 2, 2]]  # the audio head is right
    metric = SentimentClassificationMetric()
    metric.process(None, [
        dict(pred_score=s, gt_label=torch.tensor([y]),
             modality_scores={'audio_mask': a, 'audio_decomp': a})
        for s, a, y in zip(scores, audio, labels)])
    out = metric.evaluate(6)
    expected = classification_metrics(scores.numpy(), labels)
    for k, v in expected.items():  # probabilities rank as the logits do
        assert out[f'sentiment/{k}'] == pytest.approx(v)
    assert out['sentiment/acc3_audio_mask'] == 100.0
    assert out['sentiment/acc2_non0_audio_mask'] == 100.0
    assert not any('decomp' in k for k in out)
    seven = SentimentClassificationMetric()
    seven.process(None, [dict(pred_score=torch.eye(7)[y],
                              gt_label=torch.tensor([y if y else 1]))
                         for y in range(7)])
    assert seven.evaluate(7)['sentiment/acc7'] == pytest.approx(600 / 7)
    bad = SentimentClassificationMetric()
    bad.process(None, [dict(pred_score=torch.ones(5),
                            gt_label=torch.tensor([0]))])
    with pytest.raises(ValueError, match='3-class.*7-class.*got 5'):
        bad.evaluate(1)
