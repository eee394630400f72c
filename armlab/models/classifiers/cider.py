"""The CIDer model: per-modality GRUs, the multimodal transformer, attention
pooling, and a fusion (``BackdoorAdjustedFusion`` for CIDer's MACI head).

CIDer (configs/cider/README.md) encodes each modality's feature sequence
with a bias-free projection and a GRU (``GRUSequenceEncoder``), lets the
tokens of all modalities attend to each other along every modality subset
(:class:`~armlab.models.backbones.multimodal_transformer.MultimodalTransformer`),
and pools each modality's tokens with a learned attention over time into
g_m, the feature the fusion sees. So the masked forwards, metrics and
robustness protocols of :class:`MultimodalClassifier` apply unchanged.

Beyond the classifier's forward, CIDer's self-distillation (``MSSDBalancer``)
reads what :meth:`CIDerClassifier.encode` returns: the tokens after the
transformer, for the reconstruction heads, and the last layer's raw
attention scores.
"""
from typing import Dict, List, NamedTuple, Optional

import torch
from mmpretrain.structures import DataSample
from torch import nn

from armlab.datasets.text import counterfactual_keep
from armlab.registry import MODELS
from ..backbones.multimodal_transformer import MultimodalTransformer
from ..backbones.sequence_projector import (as_sequence, common_width,
                                            padding_mask)
from ..backbones.word_aligned_attention import WordAlignedAttention
from .multimodal import MultimodalClassifier, pack_predictions

#: CIDer's counterfactual text: what it masks and how much it subtracts.
COUNTERFACTUAL = dict(modality='text', key='text_ids', tau=1.0, top_k=100,
                      min_cv=0.1, cv_classes=None)


class AttentionPool(nn.Module):
    """g = sum_t softmax_t(w_2^T tanh(W_1 h_t + b_1) + b_2) h_t, over every
    step (padding included, as CIDer)."""

    def __init__(self, dims: int):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dims, dims), nn.Tanh(),
                                   nn.Linear(dims, 1))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        weights = self.score(h).softmax(1)  # (B, T, 1)
        return (weights * h).sum(1)


class TimeMappedReconstructor(nn.Module):
    """(B, L, d) word-aligned tokens -> (B, T, D): a Linear over time
    (L -> T), ReLU, then a Linear over features (d -> D), CIDer's
    reconstruction head for a modality that WSAM moved onto the words."""

    def __init__(self, dims: int, out_channels: int, in_steps: int,
                 out_steps: int):
        super().__init__()
        self.in_steps = in_steps
        self.time = nn.Linear(in_steps, out_steps)
        self.features = nn.Linear(dims, out_channels)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if h.shape[1] != self.in_steps:
            raise ValueError(f'TimeMappedReconstructor expects '
                             f'{self.in_steps} steps, got {h.shape[1]}: set '
                             "the model's word_aligned.steps to the data's")
        return self.features(self.time(h.transpose(1, 2)).transpose(1, 2)
                             .relu())


def drop_ends(valid: torch.Tensor) -> torch.Tensor:
    """(B, L) validity without each row's first and last valid step (the
    BERT text's [CLS] and [SEP])."""
    out = valid.clone()
    steps = torch.arange(valid.shape[1], device=valid.device)
    first = torch.where(valid, steps, valid.shape[1]).min(1).values
    last = torch.where(valid, steps, -1).max(1).values
    rows = torch.arange(valid.shape[0], device=valid.device)
    has = valid.any(1)
    out[rows[has], first[has]] = False
    out[rows[has], last[has]] = False
    return out


class CIDerEncoding(NamedTuple):
    """What one forward of the encoders gives."""
    feats: Dict[str, torch.Tensor]  # modality -> (B, d), the pooled g_m
    tokens: Dict[str, torch.Tensor]  # modality -> (B, T_m, d)
    scores: Optional[torch.Tensor]  # (B, H, N, N), the last layer's


@MODELS.register_module()
class CIDerClassifier(MultimodalClassifier):
    """MultimodalClassifier whose features come from CIDer's encoders.

    Args:
        encoders: Modality -> a sequence encoder to the common width d
            (``GRUSequenceEncoder``; every ``out_channels`` equal).
        transformer: :class:`MultimodalTransformer` arguments (layers,
            heads, dropouts, positions); modalities and width are filled in.
        reconstruct: Build the per-step reconstruction heads
            (Linear(d, D_m)) that MSSD's reconstruction loss trains.
        word_aligned: CIDer's WSAM for unaligned data, or None (aligned
            data): ``dict(anchor='text', skip_ends=True, steps=dict(text=L,
            audio=T_a, visual=T_v))``. Each other modality's projected steps
            are attended by the anchor's (one head, padding masked; with
            ``skip_ends`` the anchor's first and last valid steps, BERT's
            [CLS] and [SEP], ask nothing) before the GRUs, so every sequence
            has the anchor's L steps; ``steps`` sizes the reconstruction
            heads' time maps (L -> T_m).
        counterfactual: MACI's counterfactual text at inference, or None:
            ``dict(tau, top_k=100, min_cv=0.1, cv_classes=None,
            modality='text', key='text_ids')``. The score is
            s = log P - tau log P_cf, where P_cf is the prediction with every
            text step that is neither a special token nor one of the
            ``top_k`` bias tokens zeroed (``BiasWordsHook`` finds them in
            the training split; each sample's ids come in its metainfo
            ``key``, packed by ``LoadTokenIds``). tau 0 is the plain model.
        **kwargs: :class:`MultimodalClassifier` arguments.
    """

    def __init__(self, encoders: Dict[str, dict], fusion: dict,
                 num_classes: int, transformer: Optional[dict] = None,
                 reconstruct: bool = True, modalities=None,
                 word_aligned: Optional[dict] = None,
                 counterfactual: Optional[dict] = None, **kwargs):
        dims = common_width(encoders, modalities or tuple(encoders),
                            'CIDerClassifier')
        super().__init__(encoders, fusion, num_classes,
                         modalities=modalities, **kwargs)
        unsplit = [m for m in self.modalities
                   if not (hasattr(self.encoders[m], 'project')
                           and hasattr(self.encoders[m], 'recur'))]
        if unsplit:
            raise TypeError(
                f'CIDerClassifier: the encoders of {unsplit} have no '
                'project / recur steps; use GRUSequenceEncoder (the '
                'projection, then the GRU)')
        self.transformer = MultimodalTransformer(
            self.modalities, dims, **(transformer or {}))
        self.pool = nn.ModuleDict(
            {m: AttentionPool(dims) for m in self.modalities})
        self.word_aligned = self._check_alignment(word_aligned)
        self.aligners = nn.ModuleDict({
            m: WordAlignedAttention(dims) for m in self.modalities
            if m != self.word_aligned['anchor']}) if word_aligned else None
        self.reconstructors = nn.ModuleDict({
            m: self._reconstructor(m, dims)
            for m in self.modalities}) if reconstruct else None
        self.counterfactual = self._check_counterfactual(counterfactual)
        top_k = self.counterfactual['top_k'] if self.counterfactual else 0
        self.register_buffer('bias_ids', torch.full((top_k, ), -1))
        self.register_buffer('bias_ready', torch.tensor(False))

    def _check_counterfactual(self, settings: Optional[dict]
                              ) -> Optional[dict]:
        if not settings:
            return None
        unknown = set(settings) - set(COUNTERFACTUAL)
        if unknown:
            raise ValueError(f'CIDerClassifier.counterfactual: unknown keys '
                             f'{sorted(unknown)}; known: '
                             f'{sorted(COUNTERFACTUAL)}')
        settings = dict(COUNTERFACTUAL, **settings)
        if settings['modality'] not in self.modalities:
            raise ValueError(f"CIDerClassifier.counterfactual: modality "
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
                f'CIDerClassifier: the counterfactual text needs each '
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

    def _check_alignment(self, word_aligned: Optional[dict]
                         ) -> Optional[dict]:
        if not word_aligned:
            return None
        settings = dict(dict(anchor='text', skip_ends=True, steps=None),
                        **word_aligned)
        unknown = set(settings) - {'anchor', 'skip_ends', 'steps'}
        if unknown:
            raise ValueError(f'CIDerClassifier.word_aligned: unknown keys '
                             f'{sorted(unknown)}')
        if settings['anchor'] not in self.modalities:
            raise ValueError(f"CIDerClassifier.word_aligned: anchor "
                             f"{settings['anchor']!r} is not one of "
                             f'{list(self.modalities)}')
        steps = settings['steps'] or {}
        lacking = [m for m in self.modalities if m not in steps]
        if lacking:
            raise ValueError('CIDerClassifier.word_aligned.steps needs the '
                             f'step count of {lacking} (the prepared '
                             'unaligned folder\'s T per modality)')
        return settings

    def _reconstructor(self, modality: str, dims: int) -> nn.Module:
        out = self.encoders[modality].in_channels
        if not self.word_aligned or \
                modality == self.word_aligned['anchor']:
            return nn.Linear(dims, out)
        steps = self.word_aligned['steps']
        return TimeMappedReconstructor(
            dims, out, steps[self.word_aligned['anchor']], steps[modality])

    def _aligned(self, raw: Dict[str, torch.Tensor]
                 ) -> Dict[str, torch.Tensor]:
        """Modality -> (B, T, d) projected steps, moved onto the anchor's
        steps when word alignment is on."""
        z = {m: self.encoders[m].project(raw[m]) for m in self.modalities}
        if self.aligners is None:
            return z
        anchor = self.word_aligned['anchor']
        asks = ~padding_mask(raw[anchor])
        if self.word_aligned['skip_ends']:
            asks = drop_ends(asks)
        for m, align in self.aligners.items():
            z[m] = align(z[anchor], z[m], asks, ~padding_mask(raw[m]))
        return z

    def encode(self, inputs: Dict[str, torch.Tensor]) -> CIDerEncoding:
        """Features, tokens and attention scores of one forward."""
        missing = [m for m in self.modalities if m not in inputs]
        if missing:
            raise KeyError(f'inputs lack modalities {missing}; '
                           f'got {sorted(inputs)}')
        raw = {m: as_sequence(inputs[m], self.encoders[m].in_channels,
                              'CIDerClassifier') for m in self.modalities}
        seqs = {m: self.encoders[m].recur(z)
                for m, z in self._aligned(raw).items()}
        tokens, scores = self.transformer(seqs)
        feats = {m: self.pool[m](tokens[m]) for m in self.modalities}
        return CIDerEncoding(feats, tokens, scores)

    def extract_feat(self, inputs: Dict[str, torch.Tensor]
                     ) -> Dict[str, torch.Tensor]:
        return self.encode(inputs).feats

    def reconstruct(self, tokens: Dict[str, torch.Tensor]
                    ) -> Dict[str, torch.Tensor]:
        """Modality -> (B, T_m, D_m), each step's input rebuilt from its
        token."""
        if self.reconstructors is None:
            raise RuntimeError('CIDerClassifier(reconstruct=False) has no '
                               'reconstruction heads')
        return {m: self.reconstructors[m](tokens[m]) for m in self.modalities}
