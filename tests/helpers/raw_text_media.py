"""Tiny raw copies of text datasets, in their distributors' layouts.

Images come from the tiny AV-Digits build (``tiny_root``): digit class c
becomes food class ``FOOD_CLASSES[c]``, and every caption names its dish, so
a model can learn from either modality. Shared by the prepare, training and
check_dataset tests.
"""
import contextlib
import csv
import io
import json
import os
import pickle
import runpy
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[2]
#: Dishes standing in for AV-Digits classes 0, 1, 2.
FOOD_CLASSES = ('apple_pie', 'ramen', 'sushi')
#: Words of each dish's captions.
_CAPTION_WORDS = {
    'apple_pie': ('apple', 'pie', 'crust', 'cinnamon'),
    'ramen': ('ramen', 'noodle', 'broth', 'miso'),
    'sushi': ('sushi', 'rice', 'salmon', 'nori'),
}
#: A word that appears only in test captions (must map to [UNK]).
TEST_ONLY_WORD = 'zucchini'
#: IEMOCAP label indices of the DialogueRNN pickle (hap, sad, neu, ang, exc,
#: fru) used by the tiny copy.
IEMOCAP_LABELS = (0, 1, 2, 3, 4, 5)


def _digit_frames(tiny_root: Path, split: str) -> Dict[int, List[Path]]:
    """First frame of each AV-Digits sample of ``split``, by class."""
    ann = json.loads((tiny_root / 'annotations' / f'{split}.json')
                     .read_text())
    out: Dict[int, List[Path]] = {}
    for item in ann['data_list']:
        folder = tiny_root / item['paths']['visual']
        out.setdefault(int(item['gt_label']), []).append(
            sorted(folder.glob('*.jpg'))[0])
    return out


def caption(label: str, index: int, split: str) -> str:
    """A short recipe title for dish ``label`` (deterministic)."""
    words = _CAPTION_WORDS[label]
    title = (f'Homemade {words[index % 4].title()} {words[(index + 1) % 4]} '
             f'with {words[(index + 2) % 4]}, easy!')
    if split == 'test':
        title += f' {TEST_ONLY_WORD.title()}'
    return title


def make_raw_food101(tiny_root: Path, raw: Path, per_class: Dict[str, int]
                     = None) -> Path:
    """UPMC Food-101 layout: images/<split>/<class>/<name>.jpg and
    texts/<split>_titles.csv rows ``name,text,class`` (no header)."""
    per_class = per_class or {'train': 10, 'test': 3}
    for split, count in per_class.items():
        frames = _digit_frames(tiny_root, 'train' if split == 'train'
                               else 'test')
        rows = []
        for digit, label in enumerate(FOOD_CLASSES):
            for i, src in enumerate(frames[digit][:count]):
                name = f'{label}_{i}.jpg'
                dst = raw / 'images' / split / label / name
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                rows.append([name, caption(label, i, split), label])
        (raw / 'texts').mkdir(parents=True, exist_ok=True)
        with open(raw / 'texts' / f'{split}_titles.csv', 'w', newline='',
                  encoding='utf-8') as f:
            csv.writer(f).writerows(rows)
    return raw


def make_raw_iemocap(path: Path, dialogues_per_session: int = 2,
                     utterances: int = 6, seed: int = 0) -> Path:
    """The DialogueRNN ``IEMOCAP_features.pkl``: a 9-tuple of dicts keyed
    by dialogue (videoIDs, videoSpeakers, videoLabels, videoText, videoAudio,
    videoVisual, videoSentence) and the trainVid / testVid lists (sessions
    1-4 / 5). Features are 100-d (text, audio) and 512-d (visual) vectors
    that carry the label, sentences name the emotion."""
    rng = np.random.default_rng(seed)
    emotions = ('happy', 'sad', 'neutral', 'angry', 'excited', 'frustrated')
    ids, speakers, labels, text, audio, visual, sentences = ({} for _ in
                                                             range(7))
    train_vid, test_vid = [], []
    for session in range(1, 6):
        for d in range(dialogues_per_session):
            vid = f'Ses0{session}F_impro0{d + 1}'
            ids[vid], speakers[vid], labels[vid] = [], [], []
            text[vid], audio[vid], visual[vid], sentences[vid] = \
                [], [], [], []
            for u in range(utterances):
                label = IEMOCAP_LABELS[(u + d + session) % 6]
                speaker = 'FM'[u % 2]
                ids[vid].append(f'{vid}_{speaker}{u:03d}')
                speakers[vid].append(speaker)
                labels[vid].append(label)
                signal = np.zeros(100)
                signal[label] = 3.0
                text[vid].append(signal + rng.normal(size=100))
                audio[vid].append(signal + rng.normal(size=100))
                vis = rng.normal(size=512)
                vis[label * 10] += 3.0
                visual[vid].append(vis)
                sentences[vid].append(
                    f'I feel so {emotions[label]} today, really '
                    f'{emotions[label]}.')
            (test_vid if session == 5 else train_vid).append(vid)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'wb') as f:
        pickle.dump((ids, speakers, labels, text, audio, visual, sentences,
                     train_vid, test_vid), f)
    return path


def tiny_text_options(root, tokenize_index: Dict[str, int],
                      image_steps: Dict[str, int] = None,
                      encoders=None, epochs: int = 1,
                      num_classes: int = None) -> List[str]:
    """--cfg-options that shrink a text dataset config for CPU tests:
    data at ``root``, vocab.json there, small images, tiny encoders, batches
    of 8 in the main process.

    Args:
        tokenize_index: Pipeline ('train'/'test') -> index of ``Tokenize``.
        image_steps: Pipeline -> index of the resize/crop step (size 32).
        encoders: Encoder option -> value, e.g.
            ``{'visual.base_channels': 4}``.
        num_classes: Classes of the tiny copy (the model's head).
    """
    loaders = {'train_dataloader': 'train', 'val_dataloader': 'test',
               'test_dataloader': 'test'}
    opts = []
    for name, pipe in loaders.items():
        opts += [f'{name}.dataset.data_root={root}', f'{name}.batch_size=8',
                 f'{name}.num_workers=0', f'{name}.persistent_workers=False',
                 f'{name}.dataset.pipeline.{tokenize_index[pipe]}'
                 f'.vocab_file={os.path.join(str(root), "vocab.json")}']
        if image_steps:
            opts.append(f'{name}.dataset.pipeline.{image_steps[pipe]}'
                        f'.size=32')
    opts += [f'model.encoders.{k}={v}' for k, v in (encoders or {}).items()]
    if num_classes is not None:
        opts.append(f'model.num_classes={num_classes}')
    opts += [f'train_cfg.max_epochs={epochs}',
             'default_hooks.logger.interval=1']
    return opts


def run_script(script: str, *args) -> Tuple[int, str]:
    """Run ``python script ARGS`` in this process (no interpreter start-up,
    which dominates a tiny run); returns (exit status, stdout). Exceptions
    propagate, so a test can match their messages."""
    argv, out = sys.argv, io.StringIO()
    sys.argv = [script, *map(str, args)]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(REPO / script), run_name='__main__')
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (
            0 if stop.code is None else 1)
        if not isinstance(stop.code, (int, type(None))):
            out.write(str(stop.code))
    finally:
        sys.argv = argv
    return code, out.getvalue()


#: MVSA sentiments standing in for AV-Digits classes 0, 1, 2.
MVSA_CLASSES = ('negative', 'neutral', 'positive')
_MVSA_WORDS = {'negative': 'awful sad', 'neutral': 'today plain',
               'positive': 'great happy'}


def make_raw_mvsa(tiny_root: Path, raw: Path, per_class: int = 8,
                  annotators: int = 1) -> Path:
    """MVSA layout: data/<id>.jpg, data/<id>.txt and labelResultAll.txt.

    Sample ids run 1, 2, ...; every pair's labels agree with its class
    except two that the cleaning rule must treat: id 1 (text positive,
    image negative: dropped) and id 2 (text neutral, image positive:
    positive). With three annotators the third disagrees on every pair.
    """
    frames = _digit_frames(tiny_root, 'train')
    (raw / 'data').mkdir(parents=True, exist_ok=True)
    header = 'ID\t' + '\t'.join(['text,image'] * annotators)
    lines, sample_id = [header], 0
    for i in range(per_class):
        for digit, label in enumerate(MVSA_CLASSES):
            sample_id += 1
            shutil.copyfile(frames[digit][i % len(frames[digit])],
                            raw / 'data' / f'{sample_id}.jpg')
            (raw / 'data' / f'{sample_id}.txt').write_bytes(
                f'RT @user: {_MVSA_WORDS[label]} day #{i}'.encode('utf-8'))
            pair = f'{label},{label}'
            if sample_id == 1:
                pair = 'positive,negative'
            elif sample_id == 2:
                pair = 'neutral,positive'
            votes = [pair] * annotators
            if annotators == 3:
                votes[2] = 'negative,negative' if label != 'negative' \
                    else 'positive,positive'
            lines.append(f'{sample_id}\t' + '\t'.join(votes))
    (raw / 'labelResultAll.txt').write_text('\n'.join(lines) + '\n')
    return raw
