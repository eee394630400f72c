"""Word-level self-aligned attention (CIDer's WSAM, for unaligned data).

On unaligned CMU-MOSI / MOSEI, text has L steps (words) while audio and
vision have their own native step counts. Before the GRUs, CIDer aligns
each non-text sequence to the words: one attention head whose queries are
the projected text steps and whose keys and values are the other
modality's projected steps, so the modality comes out with one step per
word and the multimodal transformer sees three sequences of length L.

A = softmax_j(Q K^T / sqrt(d) - 1e9 (1 - M)) * M, M_ij = q_valid(i) s_valid(j)
(rows with no valid pair become 0); the output is out_proj(A V).
"""
import math

import torch
from torch import nn

from armlab.registry import MODELS


@MODELS.register_module()
class WordAlignedAttention(nn.Module):
    """(B, L, d) queries and (B, T, d) source -> (B, L, d), one head.

    Args:
        dims: d, the common width of the projected sequences.
    """

    def __init__(self, dims: int):
        super().__init__()
        self.dims = dims
        self.query = nn.Linear(dims, dims)
        self.key = nn.Linear(dims, dims)
        self.value = nn.Linear(dims, dims)
        self.out_proj = nn.Linear(dims, dims)

    def forward(self, query: torch.Tensor, source: torch.Tensor,
                query_valid: torch.Tensor, source_valid: torch.Tensor
                ) -> torch.Tensor:
        """``query_valid`` (B, L) and ``source_valid`` (B, T) are True on the
        steps that take part (not padding)."""
        if query.shape[0] != source.shape[0] or query.shape[-1] != \
                self.dims or source.shape[-1] != self.dims:
            raise ValueError(
                f'WordAlignedAttention({self.dims}): query '
                f'{tuple(query.shape)} and source {tuple(source.shape)} '
                'must be (B, L, d) and (B, T, d) with the same B and d')
        scores = self.query(query) @ self.key(source).transpose(1, 2)
        scores = scores / math.sqrt(self.dims)
        pair = (query_valid[:, :, None] & source_valid[:, None, :]).to(
            scores.dtype)
        weights = (scores - 1e9 * (1 - pair)).softmax(-1) * pair
        return self.out_proj(weights @ self.value(source))
