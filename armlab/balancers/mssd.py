"""MSSD: CIDer's model-specific self-distillation between a complete and a
masked view.

CIDer (configs/cider/README.md) trains every batch twice. The complete pass
fits the labels; the masked pass drops time steps of every modality at
random and must reach the same joint representation and the same attention
as the complete pass (their detached targets), while rebuilding the dropped
inputs. So the model learns to predict as if it saw everything when parts
of the input are missing, which is what CIDer's missing-modality protocols
test:

1. complete pass: L_full = CE(z, y); backward and an optimiser step;
2. masked pass on the masked inputs, with the updated weights:
   L_m = CE(z_m, y) + w_rep (1 - mean_b cos(r_m, sg r))
         + w_attn KL(softmax(sg S) || softmax(S_m))
         + w_rec sum_m R_m;
   backward and a second step.

r is the fusion's joint representation, S the transformer's last-layer raw
scores (KL over each query row, summed and divided by B H, as PyTorch's
``batchmean`` on CIDer's (B H, N, N) layout), R_m the Smooth-L1 (beta 1)
between the reconstruction and the un-masked input, summed over the
dropped valid steps and their features and divided by their number.

The mask keeps each valid step independently with probability
1 - ``drop_rate`` (CIDer: u > r with u, r uniform, i.e. 1/2), drawn fresh at
every step; padding stays padding; for the modalities in ``keep_ends`` the
first and last valid steps ([CLS] and [SEP] of BERT features) are always
kept. ``accumulate=True`` reproduces CIDer's missing ``zero_grad`` between
the passes (the second step then uses grad L_full(theta_0) + grad
L_m(theta_1)).
"""
from typing import Dict, Sequence, Tuple

import torch
import torch.nn.functional as F

from armlab.registry import MODELS
from armlab.models.backbones.sequence_projector import as_sequence, \
    padding_mask
from .base import Balancer, require_no_accumulation


def drop_steps(x: torch.Tensor, drop_rate: float, keep_ends: bool = False,
               generator=None) -> Tuple[torch.Tensor, torch.Tensor]:
    """(B, T, D) -> the masked copy (dropped steps zero) and the (B, T)
    bool mask of the *dropped valid* steps."""
    valid = ~padding_mask(x)
    u = torch.rand(valid.shape, generator=generator, device=x.device)
    dropped = valid & (u < drop_rate)
    if keep_ends:
        idx = torch.arange(x.shape[1], device=x.device).expand_as(valid)
        first = torch.where(valid, idx, x.shape[1]).min(1, keepdim=True)[0]
        last = torch.where(valid, idx, -1).max(1, keepdim=True)[0]
        dropped &= (idx != first) & (idx != last)
    return x.masked_fill(dropped[..., None], 0.0), dropped


def representation_loss(masked: torch.Tensor, target: torch.Tensor
                        ) -> torch.Tensor:
    """1 - mean_b cos(r_m, sg r)."""
    return 1 - F.cosine_similarity(masked, target.detach(), dim=1).mean()


def attention_loss(masked: torch.Tensor, target: torch.Tensor
                   ) -> torch.Tensor:
    """KL(softmax(sg S) || softmax(S_m)) over the key axis, summed over the
    query rows and divided by B * H."""
    b, h = masked.shape[:2]
    log_m = masked.float().log_softmax(-1)
    p = target.detach().float().softmax(-1)
    return (p * (p.clamp_min(1e-30).log() - log_m)).sum() / (b * h)


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor,
                        dropped: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 (beta 1) summed over the dropped steps x features, divided
    by their element count (+ 1e-6, CIDer's)."""
    err = F.smooth_l1_loss(pred, target, reduction='none', beta=1.0)
    weight = dropped[..., None].to(err.dtype).expand_as(err)
    return (err * weight).sum() / (weight.sum() + 1e-6)


@MODELS.register_module()
class MSSDBalancer(Balancer):
    """Two passes per batch: complete, then masked with self-distillation.

    Args:
        drop_rate: Probability that a valid step is dropped (CIDer: 1/2).
        rep_weight: w_rep (CIDer: 0.5).
        attn_weight: w_attn (CIDer: 0.1).
        rec_weight: w_rec (CIDer: 0.6).
        keep_ends: Modalities whose first and last valid steps are kept
            (CIDer: the BERT text's [CLS] and [SEP]).
        accumulate: Keep the complete pass's gradients into the masked
            pass's step (CIDer's code; False zeroes them in between).
    """

    def __init__(self, drop_rate: float = 0.5, rep_weight: float = 0.5,
                 attn_weight: float = 0.1, rec_weight: float = 0.6,
                 keep_ends: Sequence[str] = ('text', ),
                 accumulate: bool = True):
        super().__init__()
        if not 0 <= drop_rate < 1:
            raise ValueError(f'MSSDBalancer drop_rate must be in [0, 1), got '
                             f'{drop_rate}')
        self.drop_rate = drop_rate
        self.rep_weight = rep_weight
        self.attn_weight = attn_weight
        self.rec_weight = rec_weight
        self.keep_ends = tuple(keep_ends)
        self.accumulate = accumulate

    @staticmethod
    def _check(model) -> None:
        if not hasattr(model, 'encode') or not hasattr(model.fusion,
                                                       'represent'):
            raise TypeError(
                'MSSDBalancer distils the joint representation and the '
                'attention of CIDer: it needs model.type=CIDerClassifier '
                'with fusion.type=BackdoorAdjustedFusion, got '
                f'{type(model).__name__} with {type(model.fusion).__name__}')

    def masked_inputs(self, seqs: Dict[str, torch.Tensor]):
        """The masked copy of every modality's (B, T, D) sequence and its
        dropped-step masks."""
        masked, dropped = {}, {}
        for m, x in seqs.items():
            masked[m], dropped[m] = drop_steps(x, self.drop_rate,
                                               m in self.keep_ends)
        return masked, dropped

    def view(self, model, inputs, present):
        """Logits, joint representation and scores of one pass."""
        enc = model.encode(inputs)
        xs = model.fusion.prepare(enc.feats, model.modality_weights.clone(),
                                  present)
        rep = model.fusion.represent(xs)
        return enc, rep, model.fusion.head_logits(rep)

    def train_step(self, model, data, optim_wrapper, forward=None):
        self._check(model)
        require_no_accumulation(optim_wrapper, 'MSSDBalancer')
        data = model.data_preprocessor(data, True)
        inputs, samples = data['inputs'], data['data_samples']
        labels = self.labels(samples)
        present = model._present(samples)
        with optim_wrapper.optim_context(model):
            full, rep, logits = self.view(model, inputs, present)
            losses = {'loss_cls': model.loss_module(logits, labels)}
        loss, log_full = model.parse_losses(losses)
        optim_wrapper.backward(optim_wrapper.scale_loss(loss))
        optim_wrapper.step()
        if not self.accumulate:
            optim_wrapper.zero_grad()
        seqs = {m: as_sequence(inputs[m], model.encoders[m].in_channels,
                               'MSSDBalancer') for m in model.modalities}
        masked, dropped = self.masked_inputs(seqs)
        with optim_wrapper.optim_context(model):
            enc_m, rep_m, logits_m = self.view(model, masked, present)
            losses = {'loss_masked_cls': model.loss_module(logits_m, labels)}
            if self.rep_weight:
                losses['loss_rep'] = self.rep_weight * representation_loss(
                    rep_m, rep)
            if self.attn_weight and enc_m.scores is not None:
                losses['loss_attn'] = self.attn_weight * attention_loss(
                    enc_m.scores, full.scores)
            if self.rec_weight:
                rebuilt = model.reconstruct(enc_m.tokens)
                losses['loss_rec'] = self.rec_weight * sum(
                    reconstruction_loss(rebuilt[m], seqs[m], dropped[m])
                    for m in model.modalities)
        valid = sum(float((~padding_mask(x)).sum()) for x in seqs.values())
        losses['mssd_dropped'] = labels.new_tensor(
            sum(float(d.sum()) for d in dropped.values()) / max(valid, 1.0),
            dtype=torch.float)
        loss, log_masked = model.parse_losses(losses)
        optim_wrapper.backward(optim_wrapper.scale_loss(loss))
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        log_full['loss_full'] = log_full.pop('loss')
        return {**log_full, **log_masked}
