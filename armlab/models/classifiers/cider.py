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
from ..backbones.sequence_projector import as_sequence, common_width
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
        **kwargs: :class:`MultimodalClassifier` arguments.
    """

    def __init__(self, encoders: Dict[str, dict], fusion: dict,
                 num_classes: int, transformer: Optional[dict] = None,
                 reconstruct: bool = True, modalities=None, **kwargs):
        dims = common_width(encoders, modalities or tuple(encoders),
                            'CIDerClassifier')
        super().__init__(encoders, fusion, num_classes,
                         modalities=modalities, **kwargs)
        self.transformer = MultimodalTransformer(
            self.modalities, dims, **(transformer or {}))
        self.pool = nn.ModuleDict(
            {m: AttentionPool(dims) for m in self.modalities})
        self.reconstructors = nn.ModuleDict({
            m: nn.Linear(dims, self.encoders[m].in_channels)
            for m in self.modalities}) if reconstruct else None

    def encode(self, inputs: Dict[str, torch.Tensor]) -> CIDerEncoding:
        """Features, tokens and attention scores of one forward."""
        missing = [m for m in self.modalities if m not in inputs]
        if missing:
            raise KeyError(f'inputs lack modalities {missing}; '
                           f'got {sorted(inputs)}')
        seqs = {m: self.encoders[m](as_sequence(
            inputs[m], self.encoders[m].in_channels, 'CIDerClassifier'))
            for m in self.modalities}
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
