"""Figures and reports from work dirs: training curves, confusion matrices
and a markdown page over several runs (the ``tools/analysis`` CLIs are thin
wrappers around these)."""
from .confusion import (confusion_matrix, confusions_from_predictions,
                        load_predictions, predict_split, save_confusions)
from .curves import (expand_patterns, family_of, plot_curves, plot_overlay,
                     scalar_families)
from .report import summarise, write_report
from .workdir import (Session, TrainingRun, find_sessions, find_test_results,
                      load_run)

__all__ = [
    'Session', 'TrainingRun', 'confusion_matrix',
    'confusions_from_predictions', 'expand_patterns', 'family_of',
    'find_sessions', 'find_test_results', 'load_predictions', 'load_run',
    'plot_curves', 'plot_overlay', 'predict_split', 'save_confusions',
    'scalar_families', 'summarise', 'write_report'
]
