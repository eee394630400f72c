"""Count the bad samples a dataset skipped and report them per epoch.

With ``skip_bad_samples=True`` a dataset serves the next good sample in
place of one whose files cannot be read, in whatever worker process loads
it. The replacement carries the bad ids (``skipped_samples`` in its
metainfo), so the count reaches the main process with the batch and is
summed over ranks here: one warning per epoch instead of a silent loss.
"""
from typing import List, Optional, Sequence

from mmengine.dist import all_gather_object
from mmengine.hooks import Hook

from armlab.registry import HOOKS


@HOOKS.register_module()
class BadSampleHook(Hook):
    """Warn, with a count and examples, about the samples skipped in each
    train, validation and test epoch; log ``data/skipped_samples``."""

    priority = 'LOW'

    def __init__(self, max_reported: int = 10) -> None:
        self.max_reported = max_reported
        self._skipped: List[str] = []
        #: (stage, epoch, count) of every report, for tools and tests.
        self.history: List[tuple] = []

    def _collect(self, data_batch: Optional[dict]) -> None:
        if not data_batch or 'data_samples' not in data_batch:
            return
        for ds in data_batch['data_samples']:
            self._skipped.extend(ds.metainfo.get('skipped_samples', ()))

    def _report(self, runner, stage: str) -> None:
        parts: Sequence[List[str]] = all_gather_object(self._skipped)
        skipped = [sid for part in parts for sid in part]
        self._skipped = []
        epoch = runner.epoch + (1 if stage == 'train' else 0)
        self.history.append((stage, epoch, len(skipped)))
        if not skipped:
            return
        unique = sorted(set(skipped))
        runner.logger.warning(
            f'{stage} epoch {epoch}: {len(skipped)} bad sample(s) were '
            f'skipped ({len(unique)} distinct): '
            f'{unique[:self.max_reported]}' +
            (' ...' if len(unique) > self.max_reported else ''))
        if stage == 'train':
            # An epoch-level row: no ``iter`` field, ``step`` is the epoch
            # (the convention of armlab.utils.scalars.epoch_series).
            runner.visualizer.add_scalars(
                {'data/skipped_samples': len(skipped)}, step=epoch)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._collect(data_batch)

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._collect(data_batch)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._collect(data_batch)

    def after_train_epoch(self, runner) -> None:
        self._report(runner, 'train')

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._report(runner, 'val')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._report(runner, 'test')
