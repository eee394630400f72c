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
from typing import Dict, NamedTuple, Optional

import torch
from torch import nn

from armlab.registry import MODELS
from ..backbones.multimodal_transformer import MultimodalTransformer
from ..backbones.sequence_projector import (as_sequence, common_width,
                                            padding_mask)
from ..backbones.word_aligned_attention import WordAlignedAttention
from .counterfactual_text import CounterfactualText
from .multimodal import MultimodalClassifier



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
class CIDerClassifier(CounterfactualText, MultimodalClassifier):
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
        self.init_counterfactual(counterfactual)

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
