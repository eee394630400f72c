"""Text as a modality: tokenizer, training-split vocabulary, text/image/
feature transforms, TextEncoder and SequenceEncoder, index inputs in the
data preprocessor, and the clear errors of the optional pretrained path."""
import importlib.util

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from armlab.datasets.text import (CLS_ID, PAD_ID, SPECIALS, UNK_ID,
                                  Vocabulary, build_vocab_file,
                                  word_tokenize)
from armlab.registry import MODELS, TRANSFORMS

TRAIN_TEXTS = ['Apple pie, apple crust!', 'Miso ramen broth', 'apple RAMEN']


def _build(cfg):
    return TRANSFORMS.build(cfg)


def test_word_tokenizer_lowercases_and_splits_punctuation():
    assert word_tokenize("Chef's BEST apple-pie!") == [
        "chef's", 'best', 'apple', '-', 'pie', '!']
    assert word_tokenize('  ') == []
    with pytest.raises(TypeError, match='str'):
        word_tokenize(3)


def test_vocabulary_from_train_only_maps_unseen_words_to_unk(tmp_path):
    vocab = build_vocab_file(TRAIN_TEXTS, str(tmp_path / 'vocab.json'))
    assert tuple(vocab.tokens[:4]) == SPECIALS and PAD_ID == 0
    assert UNK_ID == 1
    # Most frequent first, ties alphabetical: apple (3), ramen (2), ...
    assert vocab.tokens[4:6] == ['apple', 'ramen']
    loaded = Vocabulary.load(str(tmp_path / 'vocab.json'))
    assert loaded.tokens == vocab.tokens
    ids, length = loaded.encode('apple zucchini', max_length=6)
    assert ids.dtype == np.int64 and ids.shape == (6, )
    assert ids.tolist() == [CLS_ID, loaded.index['apple'], UNK_ID, 0, 0, 0]
    assert length == 3
    assert loaded.decode(ids) == ['[CLS]', 'apple', '[UNK]']


def test_vocabulary_min_freq_and_max_size():
    vocab = Vocabulary.build(TRAIN_TEXTS, min_freq=2)
    assert vocab.tokens[4:] == ['apple', 'ramen']
    assert len(Vocabulary.build(TRAIN_TEXTS, max_size=5)) == 5
    with pytest.raises(ValueError, match='max_size'):
        Vocabulary.build(TRAIN_TEXTS, max_size=2)


def test_encode_truncates_and_pads():
    vocab = Vocabulary.build(['a b c d e f'])
    ids, length = vocab.encode('a b c d e f', max_length=4)
    assert ids.tolist() == [CLS_ID] + [vocab.index[w] for w in 'abc']
    assert length == 4
    ids, length = vocab.encode('a', max_length=5, add_sep=True)
    assert ids.tolist() == [CLS_ID, vocab.index['a'], 3, 0, 0]
    ids, length = vocab.encode('', max_length=3, add_cls=False)
    assert ids.tolist() == [UNK_ID, 0, 0] and length == 1  # never all PAD


def test_bad_vocab_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.json'):
        Vocabulary.load(str(tmp_path / 'nope.json'))
    bad = tmp_path / 'bad.json'
    bad.write_text('{"words": []}')
    with pytest.raises(ValueError, match='bad.json'):
        Vocabulary.load(str(bad))


def test_load_text_from_file_or_inline_then_tokenize(tmp_path):
    build_vocab_file(TRAIN_TEXTS, str(tmp_path / 'vocab.json'))
    (tmp_path / 's.txt').write_text('  Apple ramen \n', encoding='utf-8')
    load = _build(dict(type='LoadText'))
    tok = _build(dict(type='Tokenize', vocab_file=str(tmp_path / 'vocab.json'),
                      max_length=5))
    from_file = tok(load(dict(sample_id='a', text_path=str(tmp_path /
                                                           's.txt'))))
    inline = tok(load(dict(sample_id='b', text='apple RAMEN')))
    assert from_file['text'].tolist() == inline['text'].tolist()
    assert from_file['text'].dtype == np.int64
    assert from_file['text_length'] == 3
    assert from_file['text_text'] == 'Apple ramen'
    with pytest.raises(OSError, match='missing.txt'):
        load(dict(sample_id='c', text_path=str(tmp_path / 'missing.txt')))
    with pytest.raises(KeyError, match="'d'"):
        load(dict(sample_id='d'))


def test_tokenize_resolves_relative_vocab_against_data_root(tmp_path):
    build_vocab_file(TRAIN_TEXTS, str(tmp_path / 'vocab.json'))
    tok = _build(dict(type='Tokenize', vocab_file='vocab.json',
                      max_length=4))
    out = tok(dict(text='apple', data_root=str(tmp_path)))
    assert out['text'].tolist()[:2] == [CLS_ID, 4]


def _encoder(**kwargs):
    cfg = dict(type='TextEncoder', vocab_size=50, embed_dims=8, num_heads=2,
               num_layers=2, max_length=12)
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('pooling', ['mean', 'cls'])
def test_text_encoder_shape_and_padding_invariance(pooling):
    torch.manual_seed(0)
    encoder = _encoder(pooling=pooling).eval()
    ids = torch.tensor([[2, 5, 6, 7, 0, 0], [2, 9, 0, 0, 0, 0]])
    longer = torch.cat([ids, torch.zeros(2, 6, dtype=torch.long)], 1)
    with torch.no_grad():
        out, out_long = encoder(ids), encoder(longer)
    assert out.shape == (2, encoder.out_channels) == (2, 8)
    assert torch.allclose(out, out_long, atol=1e-5)
    # ...while changing a real token does change the feature.
    changed = ids.clone()
    changed[0, 2] = 11
    with torch.no_grad():
        assert not torch.allclose(encoder(changed)[0], out[0], atol=1e-4)


def test_text_encoder_trains_and_names_bad_inputs():
    encoder = _encoder()
    ids = torch.randint(1, 50, (3, 7))
    ids[:, 5:] = PAD_ID
    encoder(ids).sum().backward()
    grads = {n: p.grad for n, p in encoder.named_parameters()}
    assert all(g is not None for g in grads.values())
    assert grads['token_embed.weight'][PAD_ID].abs().sum() == 0
    assert grads['layers.layers.0.self_attn.in_proj_weight'].abs().sum() > 0
    with pytest.raises(TypeError, match='index_modalities'):
        encoder(ids.float())
    with pytest.raises(ValueError, match='vocab_size=50'):
        encoder(torch.full((1, 3), 50))
    with pytest.raises(ValueError, match='max_length=12'):
        encoder(torch.ones(1, 13, dtype=torch.long))
    all_pad = encoder.eval()(torch.zeros(1, 4, dtype=torch.long))
    assert torch.isfinite(all_pad).all()


def test_data_preprocessor_keeps_token_ids_int64():
    pre = MODELS.build(dict(type='MultimodalDataPreprocessor',
                            modalities=dict(text=dict()),
                            index_modalities=('text', )))
    out = pre(dict(inputs=dict(text=[torch.tensor([2, 5, 0]),
                                     torch.tensor([2, 7, 9])])))
    assert out['inputs']['text'].dtype == torch.int64
    assert out['inputs']['text'].tolist() == [[2, 5, 0], [2, 7, 9]]
    with pytest.raises(ValueError, match='index modalities'):
        MODELS.build(dict(type='MultimodalDataPreprocessor',
                          modalities=dict(text=dict(mean=1.0)),
                          index_modalities=('text', )))


@pytest.mark.skipif(importlib.util.find_spec('transformers') is not None,
                    reason='transformers is installed')
def test_pretrained_text_path_says_transformers_is_missing(tmp_path):
    with pytest.raises(ImportError, match='pip install transformers'):
        _build(dict(type='PretrainedTokenize', path=str(tmp_path)))
    with pytest.raises(ImportError, match=str(tmp_path)):
        MODELS.build(dict(type='PretrainedTextEncoder', path=str(tmp_path)))


def test_load_image_is_a_one_frame_clip_for_frame_transforms(tmp_path):
    img = np.zeros((20, 30, 3), np.uint8)
    img[:, :10, 2] = 255  # red in BGR: the left third
    cv2.imwrite(str(tmp_path / 'a.png'), img)
    results = _build(dict(type='LoadImage'))(
        dict(sample_id='a', visual_path=str(tmp_path / 'a.png')))
    clip = results['visual']
    assert clip.shape == (1, 20, 30, 3) and clip.dtype == np.uint8
    assert clip[0, 0, 0].tolist() == [255, 0, 0]  # RGB
    crop = _build(dict(type='FramesRandomResizedCrop', size=16))(
        dict(results))['visual']
    resized = _build(dict(type='FramesResize', size=(8, 12)))(
        dict(results))['visual']
    assert crop.shape == (1, 16, 16, 3) and resized.shape == (1, 8, 12, 3)
    packed = _build(dict(type='PackMultimodalInputs', modalities='visual'))(
        dict(sample_id='a', visual=resized, gt_label=0))
    assert packed['inputs']['visual'].shape == (3, 1, 8, 12)
    encoder = MODELS.build(dict(type='FrameResNet', base_channels=4)).eval()
    feats = encoder(packed['inputs']['visual'][None].float())
    assert feats.shape == (1, encoder.out_channels)
    (tmp_path / 'bad.jpg').write_bytes(b'not an image')
    with pytest.raises(OSError, match='bad.jpg'):
        _build(dict(type='LoadImage'))(
            dict(sample_id='b', visual_path=str(tmp_path / 'bad.jpg')))


def test_load_features_pads_truncates_and_packs(tmp_path):
    import armlab.datasets.transforms.features  # noqa: F401  (register)
    np.save(tmp_path / 'v.npy', np.arange(12, dtype=np.float64)
            .reshape(3, 4) + 1)
    np.save(tmp_path / 'a.npy', np.ones(5, np.float32))
    load = _build(dict(type='LoadFeatures', key='visual', max_length=5))
    out = load(dict(visual_path=str(tmp_path / 'v.npy')))
    assert out['visual'].shape == (5, 4) and out['visual'].dtype == np.float32
    assert out['visual'][3:].sum() == 0 and out['visual_length'] == 3
    cut = _build(dict(type='LoadFeatures', key='visual', max_length=2))(
        dict(visual_path=str(tmp_path / 'v.npy')))['visual']
    assert cut.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    audio = _build(dict(type='LoadFeatures', key='audio', max_length=1))(
        dict(audio_path=str(tmp_path / 'a.npy')))['audio']
    assert audio.shape == (1, 5)
    with pytest.raises(ValueError, match='expected 7'):
        _build(dict(type='LoadFeatures', key='audio', expected_dim=7))(
            dict(audio_path=str(tmp_path / 'a.npy')))
    packed = _build(dict(type='PackFeatureInputs',
                         modalities=('audio', 'visual')))(
        dict(audio=audio, visual=out['visual'], gt_label=1))
    assert packed['inputs']['visual'].shape == (5, 4)
    assert packed['inputs']['audio'].shape == (1, 5)


def test_sequence_encoder_ignores_zero_padding():
    import armlab.models.backbones.sequence_encoder  # noqa: F401
    encoder = MODELS.build(dict(type='SequenceEncoder', in_channels=4,
                                out_channels=6, hidden_channels=(8, )))
    x = torch.randn(2, 3, 4)
    padded = torch.cat([x, torch.zeros(2, 2, 4)], 1)
    assert encoder(x).shape == (2, 6)
    assert torch.allclose(encoder(x), encoder(padded), atol=1e-6)
    assert torch.allclose(encoder(x[:, :1]), encoder(x[:, 0]), atol=1e-6)
    batch = pseudo_collate([torch.randn(1, 3, 4), torch.randn(1, 3, 4)])
    assert encoder(torch.stack(batch)).shape == (2, 6)  # (B, 1, T, D)
    with pytest.raises(ValueError, match=r'\(B, T, 4\)'):
        encoder(torch.randn(2, 3, 5))


def test_the_encoders_default_pad_id_is_the_vocabularys():
    import inspect

    from armlab.models.backbones.text_encoder import TextEncoder
    default = inspect.signature(TextEncoder).parameters['pad_id'].default
    assert default == PAD_ID
