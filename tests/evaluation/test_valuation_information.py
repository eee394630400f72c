"""Plug-in entropy, MI, CMI, NMI and co-information estimators."""
import math
from collections import Counter
from itertools import permutations, product

import pytest
import torch
from sklearn.metrics import mutual_info_score

from armlab.evaluation.valuation import (co_information,
                                         conditional_mutual_information,
                                         entropy, joint_index,
                                         mutual_information,
                                         normalized_mutual_information)

LOG2 = math.log(2)


def rand(n, k, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, k, (n, ), generator=g)


def dependent_triple(n=600, seed=0):
    """X, Y, Z with Y and Z noisy functions of X (so every term is > 0)."""
    x = rand(n, 4, seed)
    y = torch.where(rand(n, 3, seed + 1) == 0, rand(n, 3, seed + 2), x % 3)
    z = torch.where(rand(n, 2, seed + 3) == 0, (x + y) % 2, rand(n, 2,
                                                                  seed + 4))
    return x, y, z


# -- a slow reference: dict counting and math.log ---------------------------
def ref_entropy(*columns):
    rows = list(zip(*[c.tolist() for c in columns]))
    n = len(rows)
    return -sum(c / n * math.log(c / n) for c in Counter(rows).values())


def ref_mi(x, y):
    return ref_entropy(x) + ref_entropy(y) - ref_entropy(x, y)


def ref_cmi(x, y, z):
    return (ref_entropy(x, z) + ref_entropy(y, z) - ref_entropy(x, y, z) -
            ref_entropy(z))


def ref_nmi(x, y):
    hx, hy = ref_entropy(x), ref_entropy(y)
    return 0.0 if hx + hy == 0 else 2 * ref_mi(x, y) / (hx + hy)


def test_matches_plain_python_reference():
    x, y, z = dependent_triple()
    assert float(entropy(x)) == pytest.approx(ref_entropy(x), abs=1e-6)
    assert float(entropy(x, y, z)) == pytest.approx(ref_entropy(x, y, z),
                                                    abs=1e-6)
    assert float(mutual_information(x, y)) == pytest.approx(ref_mi(x, y),
                                                            abs=1e-6)
    assert float(conditional_mutual_information(x, y, z)) == pytest.approx(
        ref_cmi(x, y, z), abs=1e-6)
    assert float(normalized_mutual_information(x, y)) == pytest.approx(
        ref_nmi(x, y), abs=1e-6)
    assert ref_mi(x, y) > 0.05 and ref_cmi(x, y, z) > 0.01


def test_matches_sklearn():
    x, y, _ = dependent_triple(seed=3)
    assert float(mutual_information(x, y)) == pytest.approx(
        mutual_info_score(x.numpy(), y.numpy()), abs=1e-6)


def test_joint_index_is_a_bijection():
    grid = torch.tensor(list(product(range(3), range(2), range(4)))).T
    index = joint_index(list(grid), sizes=(3, 2, 4))
    assert sorted(index.tolist()) == list(range(24))


def test_uniform_entropy_is_log_k_and_base():
    x = torch.arange(5).repeat(8)
    assert float(entropy(x)) == pytest.approx(math.log(5), abs=1e-12)
    assert float(entropy(torch.arange(4), base=2)) == pytest.approx(2.0)
    assert float(entropy(torch.zeros(7, dtype=torch.long))) == 0.0


def test_self_information_is_entropy():
    x = rand(500, 6, 1)
    assert float(mutual_information(x, x)) == pytest.approx(float(entropy(x)),
                                                            abs=1e-12)
    assert float(normalized_mutual_information(x, x)) == pytest.approx(1.0)


def test_two_by_two_table():
    """Counts [[3, 1], [1, 3]]: I = 2 log 2 - H(3/8, 1/8, 1/8, 3/8)."""
    x = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    y = torch.tensor([0, 0, 0, 1, 0, 1, 1, 1])
    h_xy = -2 * (3 / 8 * math.log(3 / 8) + 1 / 8 * math.log(1 / 8))
    assert float(entropy(x, y)) == pytest.approx(h_xy, abs=1e-12)
    assert float(mutual_information(x, y)) == pytest.approx(
        2 * LOG2 - h_xy, abs=1e-12)


def test_xor_is_pure_synergy():
    x = torch.tensor([0, 0, 1, 1] * 3)
    y = torch.tensor([0, 1, 0, 1] * 3)
    z = x ^ y
    assert float(mutual_information(x, y)) == pytest.approx(0.0, abs=1e-12)
    assert float(conditional_mutual_information(x, y, z)) == pytest.approx(
        LOG2, abs=1e-12)
    assert float(co_information(x, y, z)) == pytest.approx(-LOG2, abs=1e-12)


def test_symmetries():
    x, y, z = dependent_triple(seed=5)
    assert float(mutual_information(x, y)) == pytest.approx(
        float(mutual_information(y, x)), abs=1e-12)
    assert float(conditional_mutual_information(x, y, z)) == pytest.approx(
        float(conditional_mutual_information(y, x, z)), abs=1e-12)
    co = [float(co_information(*p)) for p in permutations((x, y, z))]
    assert max(co) - min(co) < 1e-12
    # Co-information is also I(X;Y) - I(X;Y|Z).
    assert co[0] == pytest.approx(
        float(mutual_information(x, y) -
              conditional_mutual_information(x, y, z)), abs=1e-12)


def test_chain_rule_with_joint_groups():
    """I(X; Y, Z) = I(X; Z) + I(X; Y | Z), also with Miller-Madow."""
    x, y, z = dependent_triple(seed=7)
    w = rand(600, 2, 99)
    for mm in (False, True):
        lhs = mutual_information(x, (y, z), miller_madow=mm)
        rhs = (mutual_information(x, z, miller_madow=mm) +
               conditional_mutual_information(x, y, z, miller_madow=mm))
        assert float(lhs) == pytest.approx(float(rhs), abs=1e-6)
    # Conditioning on a tuple is conditioning on the joint variable.
    joint_zw = joint_index([z, w], sizes=(2, 2))
    assert float(conditional_mutual_information(x, y, (z, w))) == \
        pytest.approx(float(conditional_mutual_information(x, y, joint_zw)),
                      abs=1e-12)


def test_independent_mi_within_bias_and_miller_madow_reduces_it():
    """E[Î] ≈ (|X|-1)(|Y|-1)/(2N) for independent X, Y; MM removes it."""
    n, kx, ky, seeds = 2000, 4, 3, 20
    bias = (kx - 1) * (ky - 1) / (2 * n)
    plug, mm = [], []
    for s in range(seeds):
        x, y = rand(n, kx, 2 * s), rand(n, ky, 2 * s + 1)
        plug.append(float(mutual_information(x, y)))
        mm.append(float(mutual_information(x, y, miller_madow=True)))
    mean_plug, mean_mm = sum(plug) / seeds, sum(mm) / seeds
    # Std of the mean of chi2_6 / (2N) over 20 draws is ~0.8 / (2N).
    assert 0 <= mean_plug <= bias + 3 / (2 * n)
    assert abs(mean_mm) < 0.5 * mean_plug


def test_nmi_range_and_degenerate_cases():
    for s in range(5):
        x = rand(300, 5, s)
        y = torch.where(rand(300, 2, s + 10) == 0, x % 3, rand(300, 3, s + 20))
        nmi = float(normalized_mutual_information(x, y))
        assert 0.0 <= nmi <= 1.0
    const = torch.zeros(10, dtype=torch.long)
    assert float(normalized_mutual_information(const, const)) == 0.0


def test_returns_float_scalars():
    x, y, z = dependent_triple(n=50)
    for value in (entropy(x), mutual_information(x, y),
                  conditional_mutual_information(x, y, z),
                  normalized_mutual_information(x, y),
                  co_information(x, y, z)):
        assert value.dim() == 0 and value.dtype.is_floating_point


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu():
    x, y, z = dependent_triple()
    cpu = conditional_mutual_information(x, y, z)
    gpu = conditional_mutual_information(x.cuda(), y.cuda(), z.cuda())
    assert gpu.device.type == 'cuda'
    assert float(gpu) == pytest.approx(float(cpu), abs=1e-9)


def test_bad_inputs():
    x = torch.tensor([0, 1, 2])
    with pytest.raises(ValueError, match='samples'):
        mutual_information(x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='negative'):
        entropy(torch.tensor([0, -1, 2]))
    with pytest.raises(ValueError, match='dtype'):
        entropy(torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match='empty'):
        entropy(torch.tensor([], dtype=torch.long))
    with pytest.raises(ValueError, match='outside its size'):
        entropy(x, sizes=2)
    with pytest.raises(ValueError, match='1-D'):
        entropy(torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match='no variables'):
        entropy()


def test_warns_when_cells_outnumber_samples():
    x, y = rand(50, 10, 0), rand(50, 10, 1)
    with pytest.warns(UserWarning, match='biased'):
        mutual_information(x, y, sizes=10)
    # The declared sizes count, not only the observed values.
    with pytest.warns(UserWarning, match='2000 cells'):
        conditional_mutual_information(x, y, rand(50, 2, 2),
                                       sizes=(10, 10, 20))
    mutual_information(x, y, sizes=10, warn=False)  # silenced on request


def test_miller_madow_adds_occupied_cells_term():
    x = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    y = torch.tensor([0, 1, 0, 1, 0, 1, 0, 0])
    assert float(entropy(x, miller_madow=True)) == pytest.approx(
        math.log(4) + 3 / 16, abs=1e-12)
    m_xy = len(set(zip(x.tolist(), y.tolist())))
    assert float(entropy(x, y, miller_madow=True)) == pytest.approx(
        ref_entropy(x, y) + (m_xy - 1) / 16, abs=1e-12)
    assert float(entropy(x, miller_madow=True, base=2)) == pytest.approx(
        (math.log(4) + 3 / 16) / LOG2, abs=1e-12)


def test_huge_tables_fall_back_to_distinct_rows():
    """Past 2^24 cells the counts come from torch.unique, same result."""
    x, y, _ = dependent_triple(n=200)
    with pytest.warns(UserWarning, match='cells'):
        huge = mutual_information(x, y, sizes=(5000, 5000))
    assert float(huge) == pytest.approx(float(mutual_information(x, y)),
                                        abs=1e-12)
