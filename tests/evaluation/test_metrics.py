"""MultimodalAccuracy against hand-computed values."""
import pytest
import torch
from mmpretrain.structures import DataSample

from armlab.evaluation import MultimodalAccuracy


def one_hot_scores(preds, k=3):
    return torch.nn.functional.one_hot(torch.tensor(preds), k).float()


def test_calculate_by_hand():
    target = torch.tensor([0, 1, 2, 2])
    # Fused predictions 0, 2, 2, 1: two right -> 50 %.
    scores = torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.3, 0.6],
                           [0.2, 0.2, 0.6], [0.1, 0.5, 0.4]])
    modality_scores = {
        'audio_mask': one_hot_scores([0, 1, 2, 2]),   # 4 / 4
        'visual_mask': one_hot_scores([1, 1, 0, 0]),  # 1 / 4
        'audio_decomp': one_hot_scores([0, 0, 0, 2]),  # 2 / 4
    }
    erased = torch.tensor([[True, False], [False, False], [True, False],
                           [False, True]])
    m = MultimodalAccuracy.calculate(scores, target, modality_scores, erased,
                                     topk=(1, 2))
    assert m['accuracy/top1'] == pytest.approx(50.0)
    # Top-2: sample 1 has 1 in its top two (0.6, 0.3); sample 3 has 2 (0.5,
    # 0.4): all four right.
    assert m['accuracy/top2'] == pytest.approx(100.0)
    assert m['acc_audio_mask'] == pytest.approx(100.0)
    assert m['acc_visual_mask'] == pytest.approx(25.0)
    assert m['acc_audio_decomp'] == pytest.approx(50.0)
    # Per class (pred 0,2,2,1 vs 0,1,2,2): class 0 P=1 R=1 F1=1; class 1
    # P=0 R=0 F1=0; class 2 P=1/2 R=1/2 F1=1/2 -> macro-F1 = 50 %.
    assert m['f1/macro'] == pytest.approx(50.0)
    # Audio erased on samples 0 and 2 (fused right on both); visual erased
    # on sample 3 (fused wrong).
    assert m['acc_erased_audio'] == pytest.approx(100.0)
    assert m['acc_erased_visual'] == pytest.approx(0.0)


def test_topk_larger_than_classes_is_skipped():
    m = MultimodalAccuracy.calculate(one_hot_scores([0, 1]),
                                     torch.tensor([0, 0]), topk=(1, 5))
    assert set(m) == {'accuracy/top1', 'f1/macro'}
    assert m['accuracy/top1'] == pytest.approx(50.0)


def test_process_and_compute_through_the_evaluator_interface():
    metric = MultimodalAccuracy(topk=(1, ))
    outputs = []
    for pred, label, erased in ((0, 0, [False, True]), (1, 0, [False, True]),
                                (2, 2, [False, False])):
        ds = DataSample().set_gt_label(label).set_pred_score(
            one_hot_scores([pred])[0])
        ds.set_field({'audio_mask': one_hot_scores([label])[0],
                      'visual_mask': one_hot_scores([pred])[0]},
                     'modality_scores', field_type='data')
        ds.set_metainfo(dict(erased=torch.tensor(erased)))
        outputs.append(ds.to_dict())
    metric.process(None, outputs)
    m = metric.evaluate(3)
    assert m['accuracy/top1'] == pytest.approx(200 / 3)
    assert m['acc_audio_mask'] == pytest.approx(100.0)
    assert m['acc_visual_mask'] == pytest.approx(200 / 3)
    assert m['acc_erased_visual'] == pytest.approx(50.0)
    assert 'acc_erased_audio' not in m


def test_shapley_contributions_of_accuracy_by_hand():
    target = torch.tensor([0, 1, 2, 0])
    subset_labels = {                                   # accuracy
        'audio+visual': torch.tensor([0, 1, 2, 0]),     # 100
        'audio': torch.tensor([0, 1, 2, 1]),            # 75
        'visual': torch.tensor([0, 2, 1, 1]),           # 25
        'none': torch.tensor([0, 0, 0, 0]),             # 50
    }
    m = MultimodalAccuracy.shapley_contributions(subset_labels, target)
    # phi_a = 1/2[(75 - 50) + (100 - 25)] = 50; phi_v = 1/2[(25 - 50) +
    # (100 - 75)] = 0; they sum to v(av) - v(none) = 50.
    assert m['shapley_audio'] == pytest.approx(50.0)
    assert m['shapley_visual'] == pytest.approx(0.0)
    assert m['shapley_share_audio'] == pytest.approx(100.0)
    assert m['shapley_share_visual'] == pytest.approx(0.0)


def test_shapley_contributions_reach_the_metric_through_process():
    metric = MultimodalAccuracy(topk=(1, ))
    outputs = []
    for label, a, v in ((0, 0, 1), (1, 1, 1), (2, 0, 2), (0, 0, 0)):
        ds = DataSample().set_gt_label(label).set_pred_score(
            one_hot_scores([label])[0])
        ds.set_field({'audio+visual': torch.tensor(label),
                      'audio': torch.tensor(a), 'visual': torch.tensor(v),
                      'none': torch.tensor(2)}, 'subset_labels',
                     field_type='data')
        outputs.append(ds.to_dict())
    metric.process(None, outputs)
    m = metric.evaluate(4)
    # v(av)=100, v(a)=75, v(v)=75, v(none)=25: phi_a = phi_v = 37.5.
    assert m['shapley_audio'] == pytest.approx(37.5)
    assert m['shapley_share_visual'] == pytest.approx(50.0)
