"""A cross-modal transformer classifier of the MulT kind.

Tsai et al., "Multimodal Transformer for Unaligned Multimodal Language
Sequences", ACL 2019. Each target modality a attends, step by step, to every
other modality b through a stack of cross-modal blocks (queries from a,
keys and values from b); the outputs for all b are concatenated and passed
through a self-attention transformer; the result, pooled over a's valid
steps, is a's feature h_a. The fusion and every masked forward then act on
the h_a as for any MultimodalClassifier.

Two consequences a user should know: h_a carries information from the
other modalities, so the masked heads ("only a present") read a's view of
the whole input, not a alone; and the missing-modality protocols act on the
inputs, per time step, before the cross-modal attention (a zeroed row is
padding: no query attends to it).
"""
from typing import Dict, Optional

import torch
from torch import nn

from armlab.registry import MODELS
from ..backbones.sequence_projector import (as_sequence, common_width,
                                            padding_mask)
from .multimodal import MultimodalClassifier


class CrossModalBlock(nn.Module):
    """Pre-norm cross-attention of ``query`` to ``source``, then an FFN."""

    def __init__(self, dims: int, num_heads: int, dropout: float):
        super().__init__()
        self.norm_q = nn.LayerNorm(dims)
        self.norm_kv = nn.LayerNorm(dims)
        self.attn = nn.MultiheadAttention(dims, num_heads, dropout=dropout,
                                          batch_first=True)
        self.norm_ff = nn.LayerNorm(dims)
        self.ffn = nn.Sequential(nn.Linear(dims, 4 * dims), nn.ReLU(),
                                 nn.Dropout(dropout),
                                 nn.Linear(4 * dims, dims))

    def forward(self, query, source, source_pad):
        kv = self.norm_kv(source)
        out, _ = self.attn(self.norm_q(query), kv, kv,
                           key_padding_mask=source_pad, need_weights=False)
        query = query + out
        return query + self.ffn(self.norm_ff(query))


def attendable(pad: torch.Tensor) -> torch.Tensor:
    """A padding mask that leaves one key per row: attention over no key at
    all is undefined (NaN), so an all-padding row (a missing modality)
    exposes its first, zero, step."""
    pad = pad.clone()
    pad[pad.all(1), 0] = False
    return pad


@MODELS.register_module()
class CrossModalTransformerClassifier(MultimodalClassifier):
    """MultimodalClassifier whose features come from cross-modal attention.

    Args:
        encoders: Modality -> a sequence encoder to the common width d
            (``SequenceProjector``; every ``out_channels`` equal).
        cross_layers: Cross-modal blocks per (target, source) pair.
        self_layers: Self-attention layers over a target's concatenated
            cross-modal outputs.
        num_heads: Attention heads (must divide d and (M - 1) d).
        dropout: Attention and FFN dropout.
        **kwargs: :class:`MultimodalClassifier` arguments; the fusion's
            in_channels are filled with (M - 1) d per modality.
    """

    def __init__(self, encoders: Dict[str, dict], fusion: dict,
                 num_classes: int, cross_layers: int = 2,
                 self_layers: int = 1, num_heads: int = 4,
                 dropout: float = 0.1, modalities=None, **kwargs):
        chosen = modalities or tuple(encoders)
        dims = common_width(encoders, chosen,
                            'CrossModalTransformerClassifier')
        if len(chosen) < 2:
            raise ValueError('CrossModalTransformerClassifier needs two or '
                             f'more modalities, got {chosen}')
        width = (len(chosen) - 1) * dims
        fusion = dict(fusion)
        fusion.setdefault('in_channels', {m: width for m in chosen})
        super().__init__(encoders, fusion, num_classes,
                         modalities=modalities, **kwargs)
        self.cross = nn.ModuleDict({
            f'{src}_to_{tgt}': nn.ModuleList(
                CrossModalBlock(dims, num_heads, dropout)
                for _ in range(cross_layers))
            for tgt in self.modalities for src in self.modalities
            if src != tgt})
        layer = nn.TransformerEncoderLayer(
            width, num_heads, 4 * width, dropout, batch_first=True,
            norm_first=True)
        self.self_attn = nn.ModuleDict({
            m: nn.TransformerEncoder(layer, self_layers,
                                     enable_nested_tensor=False)
            for m in self.modalities})
        self.final_norm = nn.ModuleDict(
            {m: nn.LayerNorm(width) for m in self.modalities})

    def extract_feat(self, inputs: Dict[str, torch.Tensor]
                     ) -> Dict[str, torch.Tensor]:
        missing = [m for m in self.modalities if m not in inputs]
        if missing:
            raise KeyError(f'inputs lack modalities {missing}; '
                           f'got {sorted(inputs)}')
        pads: Dict[str, torch.Tensor] = {}
        seqs: Dict[str, torch.Tensor] = {}
        for m in self.modalities:
            x = as_sequence(inputs[m], self.encoders[m].in_channels,
                            'CrossModalTransformerClassifier')
            pads[m] = padding_mask(x)
            seqs[m] = self.encoders[m](x)
        feats = {}
        for tgt in self.modalities:
            crossed = []
            for src in self.modalities:
                if src == tgt:
                    continue
                z = seqs[tgt]
                for block in self.cross[f'{src}_to_{tgt}']:
                    z = block(z, seqs[src], attendable(pads[src]))
                crossed.append(z)
            z = self.self_attn[tgt](torch.cat(crossed, -1),
                                    src_key_padding_mask=attendable(
                                        pads[tgt]))
            feats[tgt] = masked_mean(self.final_norm[tgt](z), pads[tgt])
        return feats


def masked_mean(z: torch.Tensor, pad: Optional[torch.Tensor]) -> torch.Tensor:
    """(B, D) mean of (B, T, D) over the valid steps (0 where none is)."""
    valid = (~pad).to(z.dtype)[..., None]
    return (z * valid).sum(1) / valid.sum(1).clamp(min=1.0)
