"""Text as a modality: word tokenizer, training-split vocabulary, and the
optional local pretrained tokenizer/transformer."""
from .bias_words import (BERT_SPECIAL_IDS, bias_token_ids,
                         counterfactual_keep, read_token_ids)
from .files import text_path, write_texts
from armlab.utils.pretrained import (load_pretrained_model,
                                     load_pretrained_tokenizer)
from .tokenizer import word_tokenize
from .vocabulary import (CLS, CLS_ID, PAD, PAD_ID, SEP, SEP_ID, SPECIALS, UNK,
                         UNK_ID, Vocabulary, build_vocab_file)

__all__ = [
    'word_tokenize', 'Vocabulary', 'build_vocab_file', 'SPECIALS', 'PAD',
    'UNK', 'CLS', 'SEP', 'PAD_ID', 'UNK_ID', 'CLS_ID', 'SEP_ID',
    'load_pretrained_tokenizer', 'load_pretrained_model', 'text_path',
    'write_texts', 'BERT_SPECIAL_IDS', 'bias_token_ids',
    'counterfactual_keep', 'read_token_ids'
]
