"""Multimodal active learning: the loop, the label pool and the strategies.

``ActiveLearningLoop`` runs one strategy for one seed
(docs/active_learning.md);
``tools/active_learn.py`` is its command line and
``tools/analysis/active_learning_results.py`` compares strategies over
seeds. See docs/active_learning.md.
"""
from . import strategies  # noqa: F401  (registers the strategies)
from .budget import budget_schedule, parse_budget, parse_budget_arg
from .curves import labels_to_reach, normalized_auc
from .labelled_subset import LabelledSubset
from .loop import ActiveLearningLoop
from .pool import LabelPool
from .pool_outputs import collect_outputs, mc_dropout_probs
from .records import read_csv, summarize_metrics
from .settings import ActiveLearningSettings

__all__ = [
    'ActiveLearningLoop', 'ActiveLearningSettings', 'LabelPool',
    'LabelledSubset', 'budget_schedule', 'parse_budget', 'parse_budget_arg',
    'collect_outputs', 'mc_dropout_probs', 'normalized_auc',
    'labels_to_reach', 'summarize_metrics', 'read_csv'
]
