"""Plug-in information estimators on discrete variables, vectorised in torch.

Every estimator reduces to entropies of count tables. The joint cell of a
sample is one mixed-radix integer, so a single ``torch.bincount`` counts a
joint table on CPU or GPU without Python loops over samples or bins. The
plug-in entropy is biased downwards by about (m - 1) / (2N) nats (m occupied
cells); the optional Miller-Madow correction adds that term back.

A variable is a 1-D integer tensor of length N with values in [0, size).
Wherever a function takes a "group" (``x``, ``y`` or ``z``), a tuple of
variables stands for their joint variable. ``sizes`` lists one size per
variable, in the order the variables appear (x's, then y's, then z's); an int
applies to every variable; ``None`` (alone or as an entry) means max + 1.

Entropies are in nats unless ``base`` is given, and every result is a 0-dim
float64 tensor on the variables' device.
"""
import math
import warnings
from functools import partial
from typing import List, Optional, Sequence, Tuple, Union

import torch

Variable = torch.Tensor
Group = Union[torch.Tensor, Sequence[torch.Tensor]]
Sizes = Union[int, Sequence[Optional[int]], None]

# Above this many joint cells the mixed-radix index could overflow or the
# bincount table would dwarf the data: count the distinct rows instead.
_MAX_BINCOUNT_CELLS = 1 << 24


# -- validation and joint cells ----------------------------------------------
def _group(v: Group, name: str) -> List[torch.Tensor]:
    """A tensor or a tuple of tensors as a list of variables."""
    if isinstance(v, torch.Tensor):
        return [v]
    variables = list(v)
    if not variables:
        raise ValueError(f'{name} is an empty group of variables')
    return variables


def _check(variables: Sequence[torch.Tensor]) -> List[torch.Tensor]:
    """Validate shapes, dtypes and values; return int64 views."""
    if not variables:
        raise ValueError('no variables given')
    out = []
    length = None
    for i, v in enumerate(variables):
        if not isinstance(v, torch.Tensor):
            raise ValueError(f'variable {i} is a {type(v).__name__}, '
                             'not a tensor')
        if v.dim() != 1:
            raise ValueError(f'variable {i} must be 1-D, got shape '
                             f'{tuple(v.shape)}')
        if v.dtype.is_floating_point or v.dtype.is_complex:
            raise ValueError(f'variable {i} has dtype {v.dtype}; discrete '
                             'estimators need integer labels')
        if v.numel() == 0:
            raise ValueError(f'variable {i} is empty')
        if length is None:
            length = v.numel()
        elif v.numel() != length:
            raise ValueError(f'variable {i} has {v.numel()} samples, '
                             f'variable 0 has {length}')
        v = v.long()
        if bool((v < 0).any()):
            raise ValueError(f'variable {i} has negative values '
                             f'(min {int(v.min())})')
        out.append(v)
    device = out[0].device
    if any(v.device != device for v in out):
        raise ValueError('variables lie on different devices: '
                         f'{[str(v.device) for v in out]}')
    return out


def _sizes(variables: Sequence[torch.Tensor], sizes: Sizes) -> List[int]:
    """One size per variable; None entries become max + 1."""
    if sizes is None or isinstance(sizes, int):
        sizes = [sizes] * len(variables)
    sizes = list(sizes)
    if len(sizes) != len(variables):
        raise ValueError(f'{len(sizes)} sizes given for {len(variables)} '
                         'variables')
    out = []
    for i, (v, s) in enumerate(zip(variables, sizes)):
        top = int(v.max()) + 1
        if s is None:
            s = top
        elif top > s:
            raise ValueError(f'variable {i} has value {top - 1} outside '
                             f'its size {s}')
        out.append(int(s))
    return out


def _num_cells(sizes: Sequence[int]) -> int:
    return math.prod(sizes)


def joint_index(variables: Sequence[torch.Tensor],
                sizes: Sizes = None) -> torch.Tensor:
    """Mixed-radix index of the joint cell of each sample.

    idx = v_0 + s_0 * (v_1 + s_1 * (v_2 + ...)), a bijection from the joint
    values onto [0, prod(sizes)), so one bincount counts the joint table.

    Args:
        variables: 1-D integer tensors of equal length N.
        sizes: Per-variable sizes (see the module notes).

    Returns:
        torch.Tensor: (N,) int64 joint indices.
    """
    variables = _check(list(variables))
    sizes = _sizes(variables, sizes)
    if _num_cells(sizes) >= 2**62:
        raise ValueError(f'{_num_cells(sizes)} joint cells overflow int64')
    return _joint_index(variables, sizes)


def _joint_index(variables: List[torch.Tensor],
                 sizes: List[int]) -> torch.Tensor:
    """Mixed-radix index of validated variables."""
    index = torch.zeros_like(variables[0])
    stride = 1
    for v, s in zip(variables, sizes):
        index = index + v * stride
        stride *= s
    return index


def _counts(variables: List[torch.Tensor], sizes: List[int]) -> torch.Tensor:
    """Counts of the occupied joint cells (zeros may be included)."""
    if _num_cells(sizes) <= _MAX_BINCOUNT_CELLS:
        return torch.bincount(_joint_index(variables, sizes))
    _, counts = torch.unique(torch.stack(variables), dim=1,
                             return_counts=True)
    return counts


def _warn_cells(variables: List[torch.Tensor], sizes: List[int],
                what: str) -> None:
    n = variables[0].numel()
    cells = _num_cells(sizes)
    if cells > n:
        warnings.warn(
            f'{what}: the joint table has {cells} cells for {n} samples; '
            'the plug-in estimate is strongly biased (consider '
            'miller_madow=True, fewer bins or more samples)', UserWarning,
            stacklevel=3)


def _entropy(variables: List[torch.Tensor], sizes: List[int],
             miller_madow: bool) -> torch.Tensor:
    """Joint plug-in entropy in nats of already validated variables."""
    return _plugin_entropy(_counts(variables, sizes), miller_madow)


def _plugin_entropy(counts: torch.Tensor,
                    miller_madow: bool) -> torch.Tensor:
    """Plug-in entropy in nats of a count table (zero cells ignored)."""
    counts = counts[counts > 0].double()
    n = counts.sum()
    p = counts / n
    h = -(p * p.log()).sum()
    if miller_madow:
        h = h + (counts.numel() - 1) / (2 * n)
    return h


def marginal_entropies(variables: Sequence[torch.Tensor], sizes: Sizes,
                       axes: Sequence[Tuple[int, ...]],
                       miller_madow: bool = False) -> List[torch.Tensor]:
    """Joint entropies of several subsets of the variables from one table.

    The full joint table is counted once (one ``bincount``) and each
    requested entropy comes from its marginal, so that an estimator needing
    many entropies of the same variables (every MI and CMI of a valuation)
    costs one pass over the samples. Values equal :func:`entropy` of those
    variables (Miller-Madow included: occupied cells of each marginal).

    Args:
        variables: 1-D integer tensors of equal length N.
        sizes: Per-variable sizes (see the module notes).
        axes: Tuples of variable positions, one per entropy wanted.
        miller_madow: Miller-Madow correction of every entropy.

    Returns:
        list: one 0-dim float64 tensor (nats) per entry of ``axes``.

    Raises:
        ValueError: the joint table would exceed 2^24 cells.
    """
    variables = _check(list(variables))
    sizes = _sizes(variables, sizes)
    cells = _num_cells(sizes)
    if cells > _MAX_BINCOUNT_CELLS:
        raise ValueError(f'marginal_entropies: {cells} joint cells exceed '
                         f'{_MAX_BINCOUNT_CELLS}; use entropy() per subset')
    counts = torch.bincount(_joint_index(variables, sizes), minlength=cells)
    # The mixed-radix index puts variable 0 on the fastest axis.
    table = counts.view(*reversed(sizes))
    n = len(sizes)
    out = []
    for keep in axes:
        summed = [n - 1 - i for i in range(n) if i not in keep]
        marginal = table.sum(dim=summed) if summed else table
        out.append(_plugin_entropy(marginal.reshape(-1), miller_madow))
    return out


def _prepare(groups: Sequence[List[torch.Tensor]], sizes: Sizes
             ) -> Tuple[List[List[torch.Tensor]], List[List[int]]]:
    """Validate all variables at once and split them back into groups."""
    flat = _check([v for g in groups for v in g])
    flat_sizes = _sizes(flat, sizes)
    out_v, out_s, start = [], [], 0
    for g in groups:
        out_v.append(flat[start:start + len(g)])
        out_s.append(flat_sizes[start:start + len(g)])
        start += len(g)
    return out_v, out_s


def _in_base(h: torch.Tensor, base: Optional[float]) -> torch.Tensor:
    return h if base is None else h / math.log(base)


# -- public estimators --------------------------------------------------------
def entropy(*variables: torch.Tensor,
            sizes: Sizes = None,
            miller_madow: bool = False,
            base: Optional[float] = None,
            warn: bool = True) -> torch.Tensor:
    """Joint plug-in entropy H(V_1, ..., V_k) = -Σ p̂ log p̂.

    Miller-Madow adds (m̂ - 1) / (2N) nats, m̂ the number of non-empty cells,
    which removes the first-order downward bias of the plug-in estimate.

    Args:
        *variables: One or more 1-D integer tensors of length N.
        sizes: Per-variable sizes (see the module notes).
        miller_madow: Apply the Miller-Madow correction.
        base: Logarithm base (None: nats).
        warn: Warn when the joint table has more cells than samples.

    Returns:
        torch.Tensor: 0-dim float64 entropy.
    """
    (vs, ), (ss, ) = _prepare([list(variables)], sizes)
    if warn:
        _warn_cells(vs, ss, 'entropy')
    return _in_base(_entropy(vs, ss, miller_madow), base)


def mutual_information(x: Group,
                       y: Group,
                       sizes: Sizes = None,
                       miller_madow: bool = False,
                       base: Optional[float] = None,
                       warn: bool = True) -> torch.Tensor:
    """Plug-in mutual information I(X; Y) = H(X) + H(Y) - H(X, Y).

    Args:
        x: A variable or a tuple of variables (taken jointly).
        y: A variable or a tuple of variables (taken jointly).
        sizes: Per-variable sizes, x's then y's.
        miller_madow: Correct each entropy (Miller-Madow).
        base: Logarithm base (None: nats).
        warn: Warn when the joint table has more cells than samples.

    Returns:
        torch.Tensor: 0-dim float64 estimate.
    """
    (xs, ys), (sx, sy) = _prepare([_group(x, 'x'), _group(y, 'y')], sizes)
    if warn:
        _warn_cells(xs + ys, sx + sy, 'mutual_information')
    h = partial(_entropy, miller_madow=miller_madow)
    mi = h(xs, sx) + h(ys, sy) - h(xs + ys, sx + sy)
    return _in_base(mi, base)


def conditional_mutual_information(x: Group,
                                   y: Group,
                                   z: Group,
                                   sizes: Sizes = None,
                                   miller_madow: bool = False,
                                   base: Optional[float] = None,
                                   warn: bool = True) -> torch.Tensor:
    """Plug-in I(X; Y | Z) = H(X,Z) + H(Y,Z) - H(X,Y,Z) - H(Z).

    Args:
        x: A variable or a tuple of variables (taken jointly).
        y: A variable or a tuple of variables (taken jointly).
        z: The conditioning variable, or a tuple conditioned on jointly.
        sizes: Per-variable sizes, x's then y's then z's.
        miller_madow: Correct each entropy (Miller-Madow).
        base: Logarithm base (None: nats).
        warn: Warn when the joint table has more cells than samples.

    Returns:
        torch.Tensor: 0-dim float64 estimate.
    """
    (xs, ys, zs), (sx, sy, sz) = _prepare(
        [_group(x, 'x'), _group(y, 'y'), _group(z, 'z')], sizes)
    if warn:
        _warn_cells(xs + ys + zs, sx + sy + sz,
                    'conditional_mutual_information')
    h = partial(_entropy, miller_madow=miller_madow)
    cmi = (h(xs + zs, sx + sz) + h(ys + zs, sy + sz) -
           h(xs + ys + zs, sx + sy + sz) - h(zs, sz))
    return _in_base(cmi, base)


def normalized_mutual_information(x: Group,
                                  y: Group,
                                  sizes: Sizes = None,
                                  miller_madow: bool = False,
                                  warn: bool = True) -> torch.Tensor:
    """NMI = 2 I(X; Y) / (H(X) + H(Y)), in [0, 1]; 0 when both are constant.

    The arithmetic-mean normalisation of the ARM code; base-free.

    Args:
        x: A variable or a tuple of variables (taken jointly).
        y: A variable or a tuple of variables (taken jointly).
        sizes: Per-variable sizes, x's then y's.
        miller_madow: Correct each entropy (Miller-Madow).
        warn: Warn when the joint table has more cells than samples.

    Returns:
        torch.Tensor: 0-dim float64 estimate.
    """
    (xs, ys), (sx, sy) = _prepare([_group(x, 'x'), _group(y, 'y')], sizes)
    if warn:
        _warn_cells(xs + ys, sx + sy, 'normalized_mutual_information')
    hx = _entropy(xs, sx, miller_madow)
    hy = _entropy(ys, sy, miller_madow)
    mi = hx + hy - _entropy(xs + ys, sx + sy, miller_madow)
    denom = hx + hy
    if float(denom) <= 0.0:
        return torch.zeros((), dtype=torch.float64, device=xs[0].device)
    return 2 * mi / denom


def co_information(x: Group,
                   y: Group,
                   z: Group,
                   sizes: Sizes = None,
                   miller_madow: bool = False,
                   base: Optional[float] = None,
                   warn: bool = True) -> torch.Tensor:
    """Co-information I(X; Y; Z) = I(X; Y) - I(X; Y | Z).

    Symmetric in its three arguments; positive for redundancy, negative for
    synergy (e.g. Z = X xor Y).

    Args:
        x, y, z: Variables or tuples of variables (taken jointly).
        sizes: Per-variable sizes, x's then y's then z's.
        miller_madow: Correct each entropy (Miller-Madow).
        base: Logarithm base (None: nats).
        warn: Warn when the joint table has more cells than samples.

    Returns:
        torch.Tensor: 0-dim float64 estimate.
    """
    (xs, ys, zs), (sx, sy, sz) = _prepare(
        [_group(x, 'x'), _group(y, 'y'), _group(z, 'z')], sizes)
    if warn:
        _warn_cells(xs + ys + zs, sx + sy + sz, 'co_information')
    h = partial(_entropy, miller_madow=miller_madow)
    # Inclusion-exclusion: H(X)+H(Y)+H(Z)-H(XY)-H(XZ)-H(YZ)+H(XYZ).
    co = (h(xs, sx) + h(ys, sy) + h(zs, sz) - h(xs + ys, sx + sy) -
          h(xs + zs, sx + sz) - h(ys + zs, sy + sz) +
          h(xs + ys + zs, sx + sy + sz))
    return _in_base(co, base)
