"""MACI's counterfactual text at inference, for a multimodal classifier.

CIDer debiases its sentiment prediction with a counterfactual: the same
inputs with the text reduced to its special and bias tokens (the training
split's frequent tokens whose use differs by class, found by
``BiasWordsHook``). The score is s = log P - tau log P_cf: what the model
predicts beyond what the biased words alone make it predict. armlab's text
is precomputed features, so the other steps are zeroed (its missing step)
instead of becoming [MASK]. Mixed into ``CIDerClassifier``; any
:class:`MultimodalClassifier` with a token-id metainfo can take it.
"""
from typing import Dict, List, Optional

import torch
from mmpretrain.structures import DataSample

from armlab.datasets.text import counterfactual_keep
from ..backbones.sequence_projector import as_sequence
from .multimodal import pack_predictions

#: What the counterfactual masks and how much it subtracts (see the class).
COUNTERFACTUAL = dict(modality='text', key='text_ids', tau=1.0, top_k=100,
                      min_cv=0.1, cv_classes=None)


class CounterfactualText:
    """Mixin: ``counterfactual=dict(tau, top_k=100, min_cv=0.1,
    cv_classes=None, modality='text', key='text_ids')`` or None.

    With tau != 0, ``predict`` scores s = log P - tau log P_cf, where P_cf is
    the prediction with every step of ``modality`` that is neither a special
    token nor one of the ``top_k`` bias tokens zeroed; each sample's ids come
    in its metainfo ``key`` (``LoadTokenIds``). The per-modality predictions
    stay the factual model's. tau 0 is the plain model.
    """

    def init_counterfactual(self, settings: Optional[dict]) -> None:
        """Check the settings and register the bias-word buffers (call
        after the modalities and encoders exist)."""
        self.counterfactual = self._checked(settings)
        top_k = self.counterfactual['top_k'] if self.counterfactual else 0
        self.register_buffer('bias_ids', torch.full((top_k, ), -1))
        self.register_buffer('bias_ready', torch.tensor(False))

    def _checked(self, settings: Optional[dict]) -> Optional[dict]:
        if not settings:
            return None
        unknown = set(settings) - set(COUNTERFACTUAL)
        if unknown:
            raise ValueError(f'counterfactual: unknown keys '
                             f'{sorted(unknown)}; known: '
                             f'{sorted(COUNTERFACTUAL)}')
        settings = dict(COUNTERFACTUAL, **settings)
        if settings['modality'] not in self.modalities:
            raise ValueError(f"counterfactual: modality "
                             f"{settings['modality']!r} is not one of "
                             f'{list(self.modalities)}')
        return settings

    def set_bias_ids(self, ids: torch.Tensor) -> None:
        """Store the bias token ids (at most ``top_k``; -1 fills)."""
        if ids.numel() > self.bias_ids.numel():
            raise ValueError(f'{ids.numel()} bias ids for a buffer of '
                             f'{self.bias_ids.numel()}')
        self.bias_ids.fill_(-1)
        self.bias_ids[:ids.numel()] = ids.to(self.bias_ids)
        self.bias_ready.fill_(True)

    def _token_ids(self, data_samples: Optional[List[DataSample]],
                   steps: int) -> torch.Tensor:
        key = self.counterfactual['key']
        if not data_samples or key not in data_samples[0]:
            raise KeyError(
                f'{type(self).__name__}: the counterfactual text needs each '
                f"sample's token ids in its metainfo {key!r}; add "
                f"dict(type='LoadTokenIds', key={key!r}) to the pipeline "
                f'and {key!r} to PackFeatureInputs.meta_keys')
        ids = torch.stack([torch.as_tensor(ds.get(key))
                           for ds in data_samples]).to(self.bias_ids.device)
        if ids.shape[1] != steps:
            raise ValueError(f'{ids.shape[1]} token ids for {steps} text '
                             'steps: the ids and the features must come '
                             'from the same pickle')
        return ids

    def counterfactual_inputs(self, inputs: Dict[str, torch.Tensor],
                              ids: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The inputs with every text step other than special and bias
        tokens zeroed (a zero row is armlab's missing step)."""
        m = self.counterfactual['modality']
        text = as_sequence(inputs[m], self.encoders[m].in_channels,
                           'CIDerClassifier')
        keep = counterfactual_keep(ids, self.bias_ids[self.bias_ids >= 0])
        return {**inputs, m: text * keep[..., None].to(text.dtype)}

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """With a counterfactual, fused scores s = log P - tau log P_cf;
        the per-modality predictions stay the factual model's."""
        if not self.counterfactual or not self.counterfactual['tau']:
            return super().predict(inputs, data_samples)
        feats, log_p, log_cf = self.factual_and_counterfactual(
            inputs, data_samples)
        present = self._present(data_samples)
        scores = log_p - self.counterfactual['tau'] * log_cf
        return pack_predictions(scores, self.modality_logits(feats, present),
                                self.subset_labels(feats, present),
                                data_samples)

    def factual_and_counterfactual(self, inputs: Dict[str, torch.Tensor],
                                   data_samples: List[DataSample]):
        """The factual features, log P and log P_cf of a batch (what the
        score and a tau sweep are made of)."""
        if not self.counterfactual:
            raise RuntimeError('CIDerClassifier(counterfactual=None) has no '
                               'counterfactual text')
        if not bool(self.bias_ready):
            raise RuntimeError('CIDerClassifier: no bias tokens; train with '
                               "BiasWordsHook in custom_hooks (or load a "
                               'checkpoint that has them)')
        m = self.counterfactual['modality']
        ids = self._token_ids(data_samples, inputs[m].shape[-2])
        present = self._present(data_samples)
        feats = self.extract_feat(inputs)
        log_p = self.fuse(feats, present=present).log_softmax(1)
        cf = self.extract_feat(self.counterfactual_inputs(inputs, ids))
        return feats, log_p, self.fuse(cf, present=present).log_softmax(1)
