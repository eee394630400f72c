"""Linear probes of frozen encoders: how much each modality learned.

Masked accuracy says how much the fused head *uses* a modality; a linear
probe says how much its encoder *learned*, whatever the head does with it.
A joint model whose weak encoder probes far below the same encoder trained
alone suffers representation imbalance; the gap
probe_alone - probe_joint measures it.
"""
import warnings
from typing import Dict, Mapping

import numpy as np

from armlab.evaluation.training_valuation import TrainingSetValuation


def probe_accuracy(train_feats: np.ndarray, train_labels: np.ndarray,
                   test_feats: np.ndarray, test_labels: np.ndarray,
                   max_iter: int = 1000, seed: int = 0) -> float:
    """Test accuracy (%) of a multinomial logistic regression (L-BFGS) fit
    on standardised training features. An L-BFGS run that stops at
    ``max_iter`` still gives a valid (slightly pessimistic) probe, so
    sklearn's convergence warning is silenced."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if len(np.unique(train_labels)) < 2:
        raise ValueError('linear probe: the training features hold fewer '
                         'than two classes')
    probe = make_pipeline(
        StandardScaler(),
        LogisticRegression(max_iter=max_iter, random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', ConvergenceWarning)
        probe.fit(train_feats, train_labels)
    accuracy = (probe.predict(test_feats) == test_labels).mean() * 100
    return round(float(accuracy), 2)


def probe_modalities(train: Mapping[str, np.ndarray], train_labels: np.ndarray,
                     test: Mapping[str, np.ndarray], test_labels: np.ndarray,
                     **kwargs) -> Dict[str, float]:
    """``probe_<m>``: one probe per modality on its own features."""
    return {
        f'probe_{m}': probe_accuracy(train[m], train_labels, test[m],
                                     test_labels, **kwargs)
        for m in train
    }


def extract_features(model, loader) -> tuple:
    """Features of every sample of ``loader`` (eval mode, no gradient),
    through the same pass as the epoch-level valuation hooks
    (:meth:`TrainingSetValuation.features`).

    Returns:
        tuple: modality -> (N, D) float array in sample order, labels (N,).
    """
    valuation = TrainingSetValuation(owner='linear probe')
    valuation.loader = loader
    return valuation.features(model)
