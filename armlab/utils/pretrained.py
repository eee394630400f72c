"""Optional pretrained tokenizers and transformers, from a LOCAL folder.

``transformers`` is not a dependency of armlab: it is imported only when a
pretrained text model is asked for, and only files already on disk are read
(``local_files_only=True``): armlab never downloads.
"""
import os.path as osp


def import_transformers(what: str, path: str):
    """Import ``transformers`` or fail with a message that says what to do."""
    try:
        import transformers
    except ImportError as err:
        raise ImportError(
            f'{what} needs the optional package `transformers` to load the '
            f'local model at {path!r}, and it is not installed: run `pip '
            f'install transformers`, or use the word-level Tokenize and '
            f'TextEncoder, which need nothing extra.') from err
    return transformers


def check_local_dir(what: str, path: str) -> str:
    """A pretrained model is a local folder; never a hub name to download."""
    path = osp.expanduser(str(path))
    if not osp.isdir(path):
        raise FileNotFoundError(
            f'{what}: {path!r} is not a local folder; give the folder of a '
            f'model saved with save_pretrained (armlab never downloads)')
    return path


def load_pretrained_tokenizer(path: str):
    """``AutoTokenizer`` from a local folder."""
    transformers = import_transformers('PretrainedTokenize', path)
    path = check_local_dir('PretrainedTokenize', path)
    return transformers.AutoTokenizer.from_pretrained(path,
                                                      local_files_only=True)


def load_pretrained_model(path: str):
    """``AutoModel`` from a local folder."""
    transformers = import_transformers('PretrainedTextEncoder', path)
    path = check_local_dir('PretrainedTextEncoder', path)
    return transformers.AutoModel.from_pretrained(path, local_files_only=True)
