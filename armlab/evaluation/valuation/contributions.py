"""Modality contributions from the masked heads of a ``MultimodalClassifier``.

Two valuations (configs/arm/README.md), both on the one masked forward
``model.masked_logits`` and both without gradient:

* B1, pointwise (per sample): ℓ_S = log σ(z_S)[y] for every subset S is a
  game whose Shapley value φ_m splits ℓ_N - ℓ_∅ among the modalities.
  For two modalities φ_m = ½(i_m + c_m), with the pointwise MI
  i_m = ℓ_m - ℓ_∅ and the pointwise CMI c_m = ℓ_N - ℓ_{N∖m}.
* B2, plug-in (per epoch): MI and CMI between the labels and the masked
  heads' discrete predictions Ŷ_m = argmax z_m.

Labels are read here, so call these on training data or in evaluation code
that is allowed to see labels, never inside ``predict``.
"""
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch

from .information import (_warn_cells, conditional_mutual_information,
                          entropy, marginal_entropies, mutual_information)
from .shapley import shapley_values

Subset = Tuple[str, ...]


def _detached(feats: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    return {m: f.detach() for m, f in feats.items()}


def _check_labels(labels: torch.Tensor, batch: int) -> torch.Tensor:
    if labels.dim() != 1 or labels.numel() != batch:
        raise ValueError(f'labels must have shape ({batch},), got '
                         f'{tuple(labels.shape)}')
    return labels.long()


def subset_log_likelihoods(model,
                           feats: Mapping[str, torch.Tensor],
                           labels: torch.Tensor,
                           prior: Optional[torch.Tensor] = None,
                           weights: Optional[torch.Tensor] = None
                           ) -> Dict[Subset, torch.Tensor]:
    """Per-sample log-likelihood of the true class under every subset head.

    ℓ_S = log softmax(z_S)[y], z_S the fused logits with only S present.
    With a class prior π, ℓ_∅ = log π_y: the empty head then means "know the
    class frequencies only" rather than "see the fill".

    Args:
        model: A ``MultimodalClassifier`` (anything with ``masked_logits``,
            ``modalities`` and ``all_subsets``).
        feats: Modality -> (B, D_m) features; detached here.
        labels: (B,) integer labels.
        prior: Optional (K,) class prior (positive, e.g. train frequencies).
        weights: Feature weights for the masked forward; the model's if None.

    Returns:
        dict: subset (tuple in model order, ``()`` included) -> (B,) tensor.
    """
    return _log_likelihoods(model, _masked(model, feats, weights), labels,
                            prior)


def _masked(model, feats: Mapping[str, torch.Tensor],
            weights: Optional[torch.Tensor]) -> Dict[Subset, torch.Tensor]:
    """Logits of every subset, without gradient (one masked forward)."""
    with torch.no_grad():
        return model.masked_logits(_detached(feats), weights=weights)


def _log_likelihoods(model, logits: Dict[Subset, torch.Tensor],
                     labels: torch.Tensor,
                     prior: Optional[torch.Tensor]
                     ) -> Dict[Subset, torch.Tensor]:
    """ℓ_S = log softmax(z_S)[y] from the subsets' logits."""
    full = logits[tuple(model.modalities)]
    labels = _check_labels(labels, full.shape[0]).to(full.device)
    out = {subset: _true_class_log_softmax(z.float(), labels)
           for subset, z in logits.items() if subset or prior is None}
    if prior is not None:
        out[()] = _log_prior(prior, labels, full)
    return {s: out[s] for s in model.all_subsets()}


def _true_class_log_softmax(z: torch.Tensor,
                            labels: torch.Tensor) -> torch.Tensor:
    """log_softmax(z)[y] per row, as z_y - logsumexp(z) (~3x faster on CPU
    for the narrow (B, K) logits of the valuation). Logits that are one row
    broadcast over the batch (the empty subset: bias and fills only) are
    reduced once."""
    if z.shape[0] > 1 and z.stride(0) == 0:
        row = z[0]
        return row[labels] - torch.logsumexp(row, dim=0)
    return z.gather(1, labels[:, None]).squeeze(1) - torch.logsumexp(z, dim=1)


def _log_prior(prior: torch.Tensor, labels: torch.Tensor,
               like: torch.Tensor) -> torch.Tensor:
    """log π_y per sample, on the device and dtype of the logits."""
    prior = torch.as_tensor(prior, dtype=torch.float32, device=like.device)
    num_classes = like.shape[1]
    if prior.shape != (num_classes, ):
        raise ValueError(f'prior must have shape ({num_classes},), got '
                         f'{tuple(prior.shape)}')
    if bool((prior <= 0).any()):
        raise ValueError('prior has non-positive entries; log π_y would be '
                         '-inf (smooth the class counts)')
    return prior.log()[labels.to(like.device)]


def pointwise_contributions(model,
                            feats: Mapping[str, torch.Tensor],
                            labels: torch.Tensor,
                            prior: Optional[torch.Tensor] = None,
                            weights: Optional[torch.Tensor] = None
                            ) -> Dict[str, Dict]:
    """Pointwise Shapley information, MI and CMI of each modality (B1).

    φ_m = Shapley value of the game v(S) = ℓ_S, so Σ_m φ_m = ℓ_N - ℓ_∅;
    i_m = ℓ_{m} - ℓ_∅ (pointwise MI); c_m = ℓ_N - ℓ_{N∖m} (pointwise CMI).
    For M = 2, φ_m = ½(i_m + c_m).

    Args:
        model: A ``MultimodalClassifier``.
        feats: Modality -> (B, D_m) features; detached here.
        labels: (B,) integer labels.
        prior: Optional (K,) class prior replacing the empty head.
        weights: Feature weights for the masked forward; the model's if None.

    Returns:
        dict: ``shapley``, ``mi``, ``cmi``: modality -> (B,) tensor;
        ``log_lik``: subset -> (B,) tensor (see ``subset_log_likelihoods``);
        ``predictions``: non-empty subset -> (B,) argmax class, from the same
        masked forward (see ``subset_predictions``).
    """
    logits = _masked(model, feats, weights)
    log_lik = _log_likelihoods(model, logits, labels, prior)
    modalities = tuple(model.modalities)
    full = log_lik[modalities]
    empty = log_lik[()]
    mi, cmi = {}, {}
    for m in modalities:
        rest = tuple(o for o in modalities if o != m)
        mi[m] = log_lik[(m, )] - empty
        cmi[m] = full - log_lik[rest]
    predictions = {s: z.argmax(1) for s, z in logits.items() if s}
    return dict(shapley=shapley_values(log_lik, modalities), mi=mi, cmi=cmi,
                log_lik=log_lik, predictions=predictions)


def subset_predictions(model,
                       feats: Mapping[str, torch.Tensor],
                       weights: Optional[torch.Tensor] = None
                       ) -> Dict[Subset, torch.Tensor]:
    """Argmax class of every non-empty subset head, Ŷ_S = argmax z_S.

    Args:
        model: A ``MultimodalClassifier``.
        feats: Modality -> (B, D_m) features; detached here.
        weights: Feature weights for the masked forward; the model's if None.

    Returns:
        dict: non-empty subset (tuple in model order) -> (B,) int64 labels.
    """
    subsets = [s for s in model.all_subsets() if s]
    with torch.no_grad():
        logits = model.masked_logits(_detached(feats), subsets=subsets,
                                     weights=weights)
    return {s: z.argmax(dim=1) for s, z in logits.items()}


def _single(predictions: Mapping, m: str) -> torch.Tensor:
    """Ŷ_m from a dict keyed by ``(m,)`` or by ``m``."""
    for key in ((m, ), m):
        if key in predictions:
            return predictions[key]
    raise KeyError(f'no single-modality prediction for {m!r}; got keys '
                   f'{list(predictions)}')


def modality_information(predictions: Mapping[Union[Subset, str],
                                              torch.Tensor],
                         labels: torch.Tensor,
                         modalities: Sequence[str],
                         num_classes: int,
                         miller_madow: bool = False,
                         normalize: bool = False,
                         warn: bool = True) -> Dict:
    """Plug-in MI/CMI valuation of the masked heads' predictions (B2).

    MI_m = I(Y; Ŷ_m); CMI_m = I(Y; Ŷ_m | Ŷ_{-m}) with the other modalities'
    single-modality predictions conditioned on jointly (CMI_m = MI_m when
    M = 1); Φ_m = ½(MI_m + CMI_m). For M = 2 the chain rule gives
    Φ_a + Φ_v = I(Y; Ŷ_a, Ŷ_v), reported as ``joint`` (for every M).

    Args:
        predictions: ``(m,)`` (or ``m``) -> (N,) predicted labels, e.g. from
            ``subset_predictions``; other keys are ignored.
        labels: (N,) true labels.
        modalities: The modalities to value, in model order.
        num_classes: K, the size of Y and of every Ŷ_m.
        miller_madow: Miller-Madow correction of every entropy.
        normalize: Divide every value by H(Y) (values 0 when H(Y) = 0).
        warn: Warn when a joint table (K^(M+1) cells) outgrows N.

    Returns:
        dict: ``mi``, ``cmi``, ``phi``: modality -> float; ``joint``: float;
        ``entropy_y``: H(Y) in nats (float).
    """
    modalities = tuple(modalities)
    preds = {m: _single(predictions, m) for m in modalities}
    labels = labels.long()
    device = labels.device
    preds = {m: p.long().to(device) for m, p in preds.items()}
    if num_classes ** (len(modalities) + 1) <= 1 << 24:
        info = _information_from_one_table(labels, preds, modalities,
                                           num_classes, miller_madow, warn)
        return _normalized(info) if normalize else info
    opts = dict(miller_madow=miller_madow, warn=warn)
    mi, cmi, phi = {}, {}, {}
    for m in modalities:
        others = tuple(preds[o] for o in modalities if o != m)
        mi[m] = float(mutual_information(labels, preds[m],
                                         sizes=num_classes, **opts))
        if others:
            cmi[m] = float(conditional_mutual_information(
                labels, preds[m], others, sizes=num_classes, **opts))
        else:
            cmi[m] = mi[m]
        phi[m] = 0.5 * (mi[m] + cmi[m])
    joint = float(mutual_information(labels, tuple(preds.values()),
                                     sizes=num_classes, **opts))
    h_y = float(entropy(labels, sizes=num_classes,
                        miller_madow=miller_madow, warn=False))
    info = dict(mi=mi, cmi=cmi, phi=phi, joint=joint, entropy_y=h_y)
    return _normalized(info) if normalize else info


def _normalized(info: Dict) -> Dict:
    """Every value divided by H(Y) (0 when H(Y) = 0)."""
    h_y = info['entropy_y']
    scale = 1.0 / h_y if h_y > 0 else 0.0
    out = {k: {m: v * scale for m, v in info[k].items()}
           for k in ('mi', 'cmi', 'phi')}
    return dict(out, joint=info['joint'] * scale, entropy_y=h_y)


def _information_from_one_table(labels, preds, modalities, num_classes,
                                miller_madow, warn) -> Dict:
    """``modality_information`` from one count table of (Y, Ŷ_1..Ŷ_M):
    the same estimates, every entropy a marginal of that table."""
    order = [labels] + [preds[m] for m in modalities]
    n = len(order)
    if warn:
        _warn_cells(order, [num_classes] * n, 'modality_information')
    all_preds = tuple(range(1, n))
    wanted = [(0, ), all_preds, (0, ) + all_preds]
    for i in range(1, n):
        others = tuple(j for j in all_preds if j != i)
        wanted += [(i, ), (0, i), others, (0, ) + others]
    wanted = list(dict.fromkeys(tuple(sorted(w)) for w in wanted if w))
    h = dict(zip(wanted, marginal_entropies(order, num_classes, wanted,
                                            miller_madow)))
    h[()] = torch.zeros((), dtype=torch.float64)

    def entropy_of(*axes):
        return h[tuple(sorted(set(axes)))]

    mi, cmi, phi = {}, {}, {}
    for i, m in enumerate(modalities, start=1):
        others = tuple(j for j in all_preds if j != i)
        mi[m] = float(entropy_of(0) + entropy_of(i) - entropy_of(0, i))
        if others:
            cmi[m] = float(entropy_of(0, *others) + entropy_of(i, *others) -
                           entropy_of(0, i, *others) - entropy_of(*others))
        else:
            cmi[m] = mi[m]
        phi[m] = 0.5 * (mi[m] + cmi[m])
    joint = float(entropy_of(0) + entropy_of(*all_preds) -
                  entropy_of(0, *all_preds))
    return dict(mi=mi, cmi=cmi, phi=phi, joint=joint,
                entropy_y=float(entropy_of(0)))


def dataset_shapley(accuracy_by_subset: Mapping[Subset, float],
                    modalities: Sequence[str]) -> Dict[str, float]:
    """Dataset-level Shapley values of accuracies.

    v(S) = accuracy with only S present (v(∅) = the empty head's accuracy,
    or chance); φ_m as in ``shapley_values``, Σ_m φ_m = v(N) - v(∅).

    Args:
        accuracy_by_subset: Subset (tuple, ``()`` included) -> accuracy.
        modalities: The modalities, in model order.

    Returns:
        dict: modality -> float.
    """
    values = {s: float(a) for s, a in accuracy_by_subset.items()}
    return {m: float(v) for m, v in shapley_values(values, modalities).items()}
