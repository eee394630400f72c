"""The shared preparation library (splits, annotations, media, runner,
front-ends) and the generic tools/data/extract_* / compute_spectrograms.

Media are real: tiny PyAV videos made from the session's AV-Digits build
(tests/helpers/raw_media.py).
"""
import json
import os
from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from conftest import run_tool
from helpers.raw_media import (corrupt, digit_clips, load_tool, mtimes,
                               write_video, write_wav)

from armlab.datasets.preparation import annotations, media, splits
from armlab.datasets.preparation.frontends import (FRONT_ENDS,
                                                   compute_front_end)
from armlab.datasets.preparation.parallel import Job, run_jobs
from armlab.datasets.transforms.audio_features import kaldi_fbank


@pytest.fixture(scope='module')
def clips(tiny_root):
    return digit_clips(tiny_root, per_class=1, labels=(0, 1))


# ------------------------------------------------------------------ splits
def test_stratified_split_is_exact_seeded_and_balanced():
    labels = np.random.default_rng(1).integers(0, 6, 7442).tolist()
    parts = splits.stratified_split(
        labels, {'train': .8, 'val': .1, 'test': .1}, seed=0)
    assert {k: len(v) for k, v in parts.items()} == {
        'train': 5954, 'val': 744, 'test': 744}
    splits.check_disjoint(parts)
    assert sorted(sum(parts.values(), [])) == list(range(7442))
    total = Counter(labels)
    for idx in parts.values():  # every class within one item of its share
        share = Counter(labels[i] for i in idx)
        for c, n in total.items():
            assert abs(share[c] - n * len(idx) / len(labels)) <= 1.5
    again = splits.stratified_split(
        labels, {'train': .8, 'val': .1, 'test': .1}, seed=0)
    other = splits.stratified_split(
        labels, {'train': .8, 'val': .1, 'test': .1}, seed=1)
    assert again == parts and other != parts


def test_tiny_split_gives_every_split_an_item():
    parts = splits.stratified_split(['a', 'a', 'b', 'b', 'c', 'c'],
                                    {'train': .8, 'val': .1, 'test': .1})
    assert [len(v) for v in parts.values()] == [4, 1, 1]


def test_group_split_keeps_groups_whole():
    labels = [i % 6 for i in range(910)]
    groups = [i % 91 for i in range(910)]  # 91 actors
    parts = splits.stratified_split(
        labels, {'train': .8, 'val': .1, 'test': .1}, seed=3, groups=groups)
    owners = {}
    for split, idx in parts.items():
        for i in idx:
            assert owners.setdefault(groups[i], split) == split
    assert abs(len(parts['test']) - 91) <= 10


def test_carve_validation_takes_val_from_train_only():
    labels = np.random.default_rng(0).integers(0, 6, 7442).tolist()
    train_idx = list(range(6698))
    train, val = splits.carve_validation(labels, train_idx, size=744, seed=0)
    assert (len(train), len(val)) == (5954, 744)
    assert set(train) | set(val) == set(train_idx)
    assert not set(train) & set(val)
    with pytest.raises(ValueError, match='exactly one of size and fraction'):
        splits.carve_validation(labels, train_idx)
    with pytest.raises(ValueError, match="share 1 item"):
        splits.check_disjoint({'train': [1, 2], 'test': [2, 3]})


# ------------------------------------------------------------- annotations
def test_write_annotations_format_meta_and_errors(tmp_path):
    (tmp_path / 'a.wav').write_bytes(b'x')
    (tmp_path / 'f').mkdir()
    sample = {'sample_id': 's1', 'gt_label': 'dog', 'speaker': 7,
              'paths': {'audio': 'a.wav', 'visual': 'f'}}
    path = annotations.write_annotations(
        str(tmp_path), 'train', [sample], ['cat', 'dog'], ['audio', 'visual'],
        'Toy', {'tool': 'test', 'params': {'fps': 1}})
    with open(path) as f:
        ann = json.load(f)
    assert ann['metainfo'] == {'dataset': 'Toy', 'classes': ['cat', 'dog'],
                               'modalities': ['audio', 'visual']}
    assert ann['data_list'] == [dict(sample, gt_label=1)]
    annotations.write_annotations(
        str(tmp_path), 'test', [dict(sample, gt_label=0)], ['cat', 'dog'],
        ['audio', 'visual'], 'Toy', {'tool': 'test', 'params': {'fps': 1}})
    meta = json.loads((tmp_path / 'meta.json').read_text())
    assert meta['counts'] == {'train': 1, 'test': 1}
    assert meta['tool'] == 'test' and meta['params'] == {'fps': 1}
    assert len(meta['sha256']['train']) == 64
    args = (str(tmp_path), 'val')
    rest = (['cat', 'dog'], ['audio', 'visual'], 'Toy')
    with pytest.raises(ValueError, match="'s1' has label 'cow'"):
        annotations.write_annotations(*args, [dict(sample, gt_label='cow')],
                                      *rest)
    with pytest.raises(KeyError, match="no path for modality 'visual'"):
        annotations.write_annotations(
            *args, [dict(sample, paths={'audio': 'a.wav'})], *rest)
    with pytest.raises(FileNotFoundError, match='missing.wav'):
        annotations.write_annotations(
            *args, [dict(sample, paths={'audio': 'missing.wav',
                                        'visual': 'f'})], *rest)
    with pytest.raises(ValueError, match="duplicate sample_id 's1'"):
        annotations.write_annotations(*args, [sample, sample], *rest)


# ------------------------------------------------------------------- media
def test_fps_selection_counts_and_picks_frames():
    frames = [(i / 25, 1 / 25, i) for i in range(250)]  # 10 s at 25 fps
    assert list(media._fps_select(frames, 1.0)) == list(range(0, 250, 25))
    assert len(list(media._fps_select(frames, 4.0))) == 40
    shifted = [(0.064 + i / 4, 0.25, i) for i in range(4)]  # FLV offset
    assert list(media._fps_select(shifted, 1.0)) == [0]


def test_extract_frames_and_audio_from_a_real_video(clips, tmp_path):
    clip = clips[0][0]
    video = write_video(tmp_path / 'v.mp4', clip, fps=4, seconds=2.0)
    n = media.extract_frames(str(video), str(tmp_path / 'frames'), fps=2,
                             short_side=16)
    names = sorted(os.listdir(tmp_path / 'frames'))
    assert n == 4 and names == [f'frame_{i:04d}.jpg' for i in range(4)]
    import cv2
    assert cv2.imread(str(tmp_path / 'frames' / names[0])).shape == (16, 16,
                                                                      3)
    media.extract_audio(str(video), str(tmp_path / 'a.wav'), 8000)
    info = sf.info(str(tmp_path / 'a.wav'))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1,
                                                              'PCM_16')
    assert abs(info.frames - 8000) < 1200  # 1 s of speech (AAC padding)
    silent = write_video(tmp_path / 's.mp4', clip, with_audio=False)
    with pytest.raises(media.MediaError, match='has no audio'):
        media.extract_audio(str(silent), str(tmp_path / 's.wav'))
    with pytest.raises(media.MediaError, match='cannot open'):
        media.extract_frames(str(corrupt(video)), str(tmp_path / 'bad'))
    assert not (tmp_path / 'bad').exists()
    assert not list(tmp_path.glob('.*.tmp'))  # no temporary left behind


def test_no_decoder_error_names_both(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_av(name, *args, **kwargs):
        if name == 'av':
            raise ImportError('No module named av')
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, '__import__', no_av)
    monkeypatch.setattr(media.shutil, 'which', lambda name: None)
    with pytest.raises(RuntimeError, match='install PyAV.*ffmpeg'):
        media.get_backend()


# ------------------------------------------------------------------ runner
def _write_or_fail(path: str, fail: bool) -> str:
    if fail:
        raise ValueError(f'bad input for {path}')
    media.write_npy(np.zeros(2, np.float32), path)
    return 'ok'


@pytest.mark.parametrize('workers', [0, 2])
def test_runner_skips_done_jobs_and_collects_failures(tmp_path, workers):
    jobs = [Job(f'k{i}', (str(tmp_path / f'{i}.npy'), ),
                (str(tmp_path / f'{i}.npy'), i == 1), f'src{i}')
            for i in range(3)]
    report = run_jobs(_write_or_fail, jobs, stage='t', workers=workers,
                      progress=False)
    assert sorted(report.results) == ['k0', 'k2']
    assert report.failures == [{'stage': 't', 'key': 'k1', 'source': 'src1',
                                'error': report.failures[0]['error']}]
    assert 'ValueError: bad input' in report.failures[0]['error']
    again = run_jobs(_write_or_fail, jobs, stage='t', workers=workers,
                     progress=False)
    assert sorted(again.skipped) == ['k0', 'k2'] and not again.results
    assert again.summary() == ('t: 0 done, 2 skipped (already complete), '
                               '1 failed')


# -------------------------------------------------------------- front-ends
def test_front_ends_give_the_reference_shapes(clips, tmp_path):
    wav = str(write_wav(tmp_path / 'a.wav', clips[0][0]))
    for name, front_end in FRONT_ENDS.items():
        spec = compute_front_end(wav, name)
        assert spec.dtype == np.float32 and np.isfinite(spec).all()
        if front_end.shape:
            assert spec.shape == front_end.shape, name
    assert compute_front_end(wav, 'ave_scipy').std() == pytest.approx(1, 1e-3)


def test_kaldi_fbank_peaks_at_the_tone_frequency():
    rate = 16000
    t = np.arange(rate) / rate
    fbank = kaldi_fbank(0.3 * np.sin(2 * np.pi * 1000 * t), rate,
                        use_torchaudio=False)
    assert fbank.shape == (128, 98)  # 1 + (16000 - 400) // 160 frames
    mel_low, mel_high = (1127 * np.log(1 + f / 700) for f in (20, 8000))
    centre_mel = mel_low + (fbank.mean(1).argmax() + 1) * (
        mel_high - mel_low) / 129
    assert abs(700 * (np.exp(centre_mel / 1127) - 1) - 1000) < 40


# ---------------------------------------------------------------- CLI tools
@pytest.mark.e2e
def test_cli_tools_extract_resume_and_report_failures(clips, tmp_path,
                                                     capsys):
    raw = tmp_path / 'raw'
    write_video(raw / 'a' / 'one.mp4', clips[0][0])
    write_video(raw / 'b' / 'two.avi', clips[1][0])
    corrupt(write_video(raw / 'b' / 'broken.mp4', clips[1][0]))
    frames = tmp_path / 'frames'
    proc = run_tool('tools/data/extract_frames.py', raw, '--out', frames,
                    '--fps', 2, '--workers', 2)
    assert 'frames: 2 done, 0 skipped (already complete), 1 failed' \
        in proc.stdout
    assert sorted(os.listdir(frames / 'a' / 'one')) == [
        'frame_0000.jpg', 'frame_0001.jpg']
    failures = json.loads((frames / 'failures.json').read_text())
    assert [f['key'] for f in failures] == [os.path.join('b', 'broken')]
    before = mtimes(frames, ('*/*/*.jpg', ))
    load_tool('extract_frames').main([str(raw), '--out', str(frames),
                                      '--fps', '2', '--no-progress'])
    assert 'frames: 0 done, 2 skipped' in capsys.readouterr().out
    assert mtimes(frames, ('*/*/*.jpg', )) == before

    load_tool('extract_audio').main([str(raw), '--out', str(tmp_path / 'au'),
                                     '--workers', '0', '--no-progress'])
    assert sf.info(str(tmp_path / 'au' / 'b' / 'two.wav')).samplerate == \
        16000
    assert len(json.loads((tmp_path / 'au' / 'failures.json').read_text())
               ) == 1
    load_tool('compute_spectrograms').main(
        [str(tmp_path / 'au'), '--out', str(tmp_path / 'spec'),
         '--front-end', 'cremad_stft', '--workers', '0', '--no-progress'])
    assert np.load(tmp_path / 'spec' / 'a' / 'one.npy').shape == (257, 188)


def test_runner_takes_jobs_from_a_generator_as_it_needs_them(tmp_path):
    # AV-Digits' build hands the runner one job per sample, each with its
    # decoded utterance: they must not all be drawn (and held) at once.
    def jobs():
        for k in range(8):
            written = len(list(tmp_path.glob('*.npy')))
            assert written >= k - 2, f'job {k} drawn with {written} done'
            yield Job(f'k{k}', (), (str(tmp_path / f'{k}.npy'), False))
    report = run_jobs(_write_or_fail, jobs(), stage='t', workers=1,
                      progress=False, total=8)
    assert sorted(report.results) == [f'k{k}' for k in range(8)]
    with pytest.raises(ValueError, match="duplicate job key 'k0'"):
        run_jobs(_write_or_fail, [Job('k0', (), (str(tmp_path / 'a.npy'),
                                                  False))] * 2,
                 stage='t', progress=False)
