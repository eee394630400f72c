"""Find CIDer's bias words in the training split, before training.

The counterfactual text of CIDer's MACI (``CIDerClassifier(counterfactual=
...)``) keeps only the bias tokens: the frequent training tokens whose use
differs by class (:func:`~armlab.datasets.text.bias_token_ids`). This hook
reads every training sample's token ids (the ``text_ids`` files that
tools/data/prepare_sentiment.py writes from MMSA's ``text_bert``) and
label, and stores the chosen ids in the model's buffer, so a checkpoint
carries them and an evaluation never reads its own split's labels.
"""
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from armlab.balancers.base import unwrap_model
from armlab.datasets.text import bias_token_ids, read_token_ids
from armlab.registry import HOOKS


@HOOKS.register_module()
class BiasWordsHook(Hook):
    """Before training, the bias token ids of the model's counterfactual."""

    priority = 'NORMAL'

    def before_train(self, runner: Runner) -> None:
        model = unwrap_model(runner.model)
        if not getattr(model, 'counterfactual', None):
            raise TypeError('BiasWordsHook needs a model with a '
                            'counterfactual text (CIDerClassifier('
                            f'counterfactual=...)), got {type(model).__name__}')
        if bool(model.bias_ready):  # restored from a checkpoint
            return
        settings = model.counterfactual
        key = f"{settings['key']}_path"
        dataset = runner.train_dataloader.dataset

        def samples():
            for i in range(len(dataset)):
                info = dataset.get_data_info(i)
                if key not in info:
                    raise KeyError(
                        f'BiasWordsHook: training sample '
                        f"{info.get('sample_id', i)!r} has no {key!r}: "
                        'prepare the data from an MMSA pickle with '
                        'text_bert ids (tools/data/prepare_sentiment.py)')
                yield (read_token_ids(info[key], repr(info.get('sample_id'))),
                       int(info['gt_label']))

        ids = bias_token_ids(samples(), model.num_classes,
                             top_k=settings['top_k'],
                             min_cv=settings['min_cv'],
                             cv_classes=settings['cv_classes'])
        model.set_bias_ids(torch.from_numpy(ids))
        runner.logger.info(f'BiasWordsHook: {len(ids)} bias tokens from '
                           f'{len(dataset)} training samples')
