"""Modality valuation shared by metrics, ARM, robustness and active learning.

``information``: plug-in entropy / MI / CMI estimators on discrete tensors;
``shapley``: exact Shapley values of a subset game; ``contributions``: the
pointwise (B1) and plug-in (B2) valuations on a classifier's masked heads.
"""
from .contributions import (dataset_shapley, modality_information,
                            pointwise_contributions, subset_log_likelihoods,
                            subset_predictions)
from .information import (co_information, conditional_mutual_information,
                          entropy, joint_index, mutual_information,
                          normalized_mutual_information)
from .shapley import MAX_PLAYERS, shapley_values

__all__ = [
    'joint_index', 'entropy', 'mutual_information',
    'conditional_mutual_information', 'normalized_mutual_information',
    'co_information', 'shapley_values', 'MAX_PLAYERS',
    'subset_log_likelihoods', 'pointwise_contributions', 'subset_predictions',
    'modality_information', 'dataset_shapley'
]
