"""Missing-modality protocols: mask statistics, seeding, subsets, fills."""
import numpy as np
import pytest

from armlab.robustness.transforms import MissingModality
from armlab.robustness import masks as M

N = 20000  # units (or samples) per statistics check


def within_4_sigma(fraction, p, n):
    return abs(fraction - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12


def sample(n_audio=N, n_frames=N, sample_id='s0'):
    """Audio (2, T) columns and (T, 1, 1, 3) frames, all ones."""
    return dict(sample_id=sample_id,
                audio=np.ones((2, n_audio), np.float32),
                visual=np.ones((n_frames, 1, 1, 3), np.uint8))


def dropped(results):
    """Missing units per modality (zero fill on all-ones inputs)."""
    return {'audio': (results['audio'] == 0).all(axis=0),
            'visual': (results['visual'] == 0).reshape(
                len(results['visual']), -1).all(axis=1)}


@pytest.mark.parametrize('rate', [0.1, 0.5, 0.9])
def test_rmfm_drops_each_unit_with_the_rate(rate):
    out = dropped(MissingModality('RMFM', rate=rate)(sample()))
    for m in ('audio', 'visual'):
        assert within_4_sigma(out[m].mean(), rate, N), (m, out[m].mean())
    # Independent per modality: the two masks are not the same draw.
    assert not np.array_equal(out['audio'], out['visual'])


def test_rmfm_per_modality_rates_and_the_training_draw():
    out = dropped(MissingModality('RMFM', rate=dict(audio=0.2, visual=0.7))(
        sample()))
    assert within_4_sigma(out['audio'].mean(), 0.2, N)
    assert within_4_sigma(out['visual'].mean(), 0.7, N)
    # rate=None: CIDer's u > r, r ~ U(0, 1): Bernoulli(1/2) per unit.
    np.random.seed(0)
    out = dropped(MissingModality('RMFM', rate=None, seed=None)(sample()))
    assert within_4_sigma(out['audio'].mean(), 0.5, N)


def test_rmm_drops_each_modality_with_the_rate():
    n = 6000  # samples: two generators each, so fewer than N
    rate, modalities = 0.3, ('audio', 'visual')
    draws = np.array([[M.rmm_mask(
        lambda m, i=i: M.mask_rng(1111, f'id{i}', 'RMM', rate, m),
        modalities, rate)[m] for m in modalities] for i in range(n)])
    for j in range(2):
        assert within_4_sigma(draws[:, j].mean(), rate, n)
    assert within_4_sigma(draws.all(axis=1).mean(), rate**2, n)
    # min_present=1 never drops both; each is then missing w.p. r / (1 + r).
    draws = np.array([[M.rmm_mask(
        lambda m, i=i: M.mask_rng(1111, f'id{i}', 'RMM', rate, m),
        modalities, rate, min_present=1)[m] for m in modalities]
        for i in range(n)])
    assert not draws.all(axis=1).any()
    assert within_4_sigma(draws[:, 0].mean(), rate / (1 + rate), n)
    # At rate 1 one modality is still kept.
    kept = M.rmm_mask(lambda m: M.mask_rng(0, 'x', 'RMM', 1.0, m),
                      modalities, 1.0, min_present=1)
    assert sum(kept.values()) == 1


def test_tmfm_shares_one_mask_across_modalities():
    out = dropped(MissingModality('TMFM', rate=0.4)(sample()))
    assert np.array_equal(out['audio'], out['visual'])  # same time base
    assert within_4_sigma(out['visual'].mean(), 0.4, N)


def test_stmfm_drops_one_block_with_uniform_start():
    steps, rate = 10, 0.3
    starts = []
    for i in range(N // 4):
        miss = M.stmfm_steps(M.mask_rng(1111, f'id{i}', 'STMFM', rate,
                                        M.SHARED), steps, rate)
        where = np.flatnonzero(miss)
        assert len(where) == 3 and np.all(np.diff(where) == 1)
        starts.append(where[0])
    counts = np.bincount(starts, minlength=8)
    assert len(counts) == 8  # starts 0..L-block
    for c in counts:  # uniform over the 8 starts
        assert within_4_sigma(c / len(starts), 1 / 8, len(starts))
    assert M.stmfm_steps(np.random.default_rng(0), 1, 0.5).all()
    assert not M.stmfm_steps(np.random.default_rng(0), 1, 0.49).any()


def test_time_base_maps_spectrogram_columns_to_frames():
    # 3 frames, 51 columns: 17 columns per step, in order.
    steps = M.step_of_units(51, 3)
    assert np.array_equal(np.bincount(steps), [17, 17, 17])
    assert np.all(np.diff(steps) >= 0)
    assert np.array_equal(M.step_of_units(5, 5), np.arange(5))
    # One frame (AV-Digits): TMFM drops the whole sample in every modality.
    results = sample(n_audio=51, n_frames=1)
    rates = [MissingModality('TMFM', rate=1.0)(dict(results, sample_id=i))
             for i in range(3)]
    for r in rates:
        assert (r['audio'] == 0).all() and (r['visual'] == 0).all()


def test_masks_depend_on_seed_sample_and_rate_only():
    def draw(**kw):
        return dropped(MissingModality('RMFM', rate=0.5, **kw)(sample()))

    a, b = draw(seed=1111), draw(seed=1111)
    assert all(np.array_equal(a[m], b[m]) for m in a)
    c = draw(seed=7)
    assert not np.array_equal(a['audio'], c['audio'])
    # A model with the other modality order (or only audio) sees the same
    # audio mask.
    d = draw(seed=1111, modalities=('visual', 'audio'))
    e = dropped(MissingModality('RMFM', rate=0.5, modalities='audio')(
        sample()))
    assert np.array_equal(a['audio'], d['audio'])
    assert np.array_equal(a['audio'], e['audio'])
    other = dropped(MissingModality('RMFM', rate=0.5)(sample(sample_id='s1')))
    assert not np.array_equal(a['audio'], other['audio'])


@pytest.mark.parametrize('protocol', ['RMM', 'RMFM', 'TMFM', 'STMFM'])
def test_every_protocol_is_reproducible_and_seed_dependent(protocol):
    def draws(seed):
        step = MissingModality(protocol, rate=0.5, fill='zero', seed=seed,
                               inform_model=True)
        return np.concatenate([
            np.concatenate(list(step(sample(10, 10, f'id{i}'))
                                ['missing_mask'].values()))
            for i in range(200)])

    first = draws(1111)
    assert 0.3 < first.mean() < 0.7
    assert np.array_equal(first, draws(1111))
    assert not np.array_equal(first, draws(7))


def test_training_draw_follows_numpy_global_seeding():
    def draw():
        return dropped(MissingModality('RMFM', rate=0.5, seed=None)(
            sample(n_audio=500, n_frames=500)))

    np.random.seed(3)
    a = draw()
    np.random.seed(3)
    b = draw()
    c = draw()
    assert np.array_equal(a['audio'], b['audio'])
    assert not np.array_equal(a['audio'], c['audio'])


def test_smm_enumerates_every_non_empty_subset():
    assert M.smm_subsets(('audio', 'visual')) == [
        ('audio', ), ('visual', ), ('audio', 'visual')]
    three = M.smm_subsets(('a', 'v', 't'))
    assert len(three) == len(set(three)) == 7
    assert set(three) == {s for s in (
        ('a', ), ('v', ), ('t', ), ('a', 'v'), ('a', 't'), ('v', 't'),
        ('a', 'v', 't'))}
    out = MissingModality('SMM', present=('visual', ))(sample(10, 10))
    assert out['modality_mask'] == {'audio': False, 'visual': True}
    assert (out['audio'] == 1).all()  # the model's fill, not the input's


def test_rmm_model_fill_keeps_a_sampler_mask():
    results = dict(sample(10, 10), modality_mask={'visual': False})
    out = MissingModality('RMM', rate=0.0)(results)
    assert out['modality_mask'] == {'audio': True, 'visual': False}
    out = MissingModality('RMM', rate=1.0)(sample(10, 10))
    assert out['modality_mask'] == {'audio': False, 'visual': False}


def test_input_fills_mean_silence_and_tokens():
    results = sample(6, 4)
    mean = np.arange(12, dtype=np.float32).reshape(2, 6) + 5
    out = MissingModality('RMFM', rate=1.0,
                          fill=dict(audio='mean', visual='zero'),
                          fill_arrays=dict(audio=mean))(results)
    assert np.array_equal(out['audio'], mean)  # a value per unit
    silence = np.array([-3.0, -4.0], np.float32)  # one column, every unit
    out = MissingModality('RMM', rate=1.0, fill='silence', modalities='audio',
                          fill_arrays=dict(audio=silence))(sample(6, 4))
    assert np.array_equal(out['audio'], np.repeat(silence[:, None], 6, 1))
    assert 'modality_mask' not in out  # the model is not told
    ids = np.array([101, 7, 8, 9, 102, 0, 0])
    out = MissingModality('RMFM', rate=1.0, modalities='text',
                          fill='token:100')(dict(sample_id='t', text=ids))
    assert out['text'].tolist() == [101, 100, 100, 100, 102, 0, 0]
    # armlab's vocabulary: [CLS] = 2, optional [SEP] = 3, [UNK] = 1, and the
    # tokenizer's <key>_length.
    ids = np.array([2, 7, 8, 9, 0, 0])
    out = MissingModality('RMM', rate=1.0, modalities='text', fill='token:1',
                          special_ids=(2, 3))(
        dict(sample_id='t', text=ids, text_length=4))
    assert out['text'].tolist() == [2, 1, 1, 1, 0, 0]


def test_missing_mask_is_emitted_only_when_asked():
    assert 'missing_mask' not in MissingModality('RMFM', rate=0.5)(
        sample(8, 8))
    out = MissingModality('RMFM', rate=0.5, inform_model=True)(sample(8, 8))
    assert np.array_equal(out['missing_mask']['audio'],
                          dropped(out)['audio'])


def test_bad_settings_name_the_culprit():
    with pytest.raises(ValueError, match='whole modalities'):
        MissingModality('RMFM', rate=0.5, fill='model')
    with pytest.raises(ValueError, match="fill_arrays\\['audio'\\]"):
        MissingModality('RMFM', rate=0.5, fill='mean')
    with pytest.raises(ValueError, match='unknown protocol'):
        MissingModality('XYZ')
    with pytest.raises(ValueError, match='rate'):
        MissingModality('RMM', rate=1.5)
    with pytest.raises(ValueError, match='after the front-end'):
        MissingModality('RMFM', rate=0.5, modalities='audio')(
            dict(sample_id='w', audio=np.zeros(100, np.float32)))
    with pytest.raises(ValueError, match='shape'):
        MissingModality('RMFM', rate=1.0, modalities='audio', fill='mean',
                        fill_arrays=dict(audio=np.zeros(3)))(sample(6, 4))


def test_feature_sequences_drop_rows_and_keep_padding():
    """(T, D) feature inputs (PackFeatureInputs): a unit is a row; the
    all-zero padding rows are never counted or changed."""
    feats = np.ones((10, 4), np.float32)
    feats[7:] = 0  # three padding rows
    results = dict(sample_id='s0', audio=feats.copy(), visual=feats.copy())
    out = MissingModality('RMFM', rate=1.0, modalities=('audio', 'visual'),
                          feature_modalities=('audio', 'visual'),
                          inform_model=True)(results)
    assert (out['audio'] == 0).all() and out['audio'].shape == (10, 4)
    assert out['missing_mask']['audio'].tolist() == [True] * 7 + [False] * 3
    half = MissingModality('TMFM', rate=0.5, modalities=('audio', 'visual'),
                           feature_modalities=('audio', 'visual'))(
        dict(sample_id='s1', audio=np.ones((400, 4), np.float32),
             visual=np.ones((400, 4), np.float32)))
    rows = (half['audio'] == 0).all(1)
    assert np.array_equal(rows, (half['visual'] == 0).all(1))  # shared steps
    assert 120 < rows.sum() < 280
    # Read as an (F, T) spectrogram instead, the units are the 4 columns.
    spec = MissingModality('RMFM', rate=1.0, modalities=('audio', ),
                           inform_model=True)(
        dict(sample_id='s0', audio=np.ones((10, 4), np.float32)))
    assert spec['missing_mask']['audio'].shape == (4, )
