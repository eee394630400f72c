"""Link a raw folder into a prepared dataset instead of copying it."""
import os
import os.path as osp


def link_raw_folder(raw: str, out: str, folder: str) -> None:
    """Make ``OUT/<folder>`` a symlink to ``RAW/<folder>`` (nothing when
    they are the same folder; an existing link elsewhere is replaced).

    Raises:
        FileExistsError: ``OUT/<folder>`` exists and is not a link, so
            replacing it could destroy data.
    """
    src, dst = osp.abspath(osp.join(raw, folder)), osp.join(out, folder)
    if osp.abspath(raw) == osp.abspath(out):
        return
    if osp.islink(dst):
        if osp.realpath(dst) == osp.realpath(src):
            return
        os.remove(dst)
    elif osp.exists(dst):
        raise FileExistsError(f'{dst} exists and is not a link to {src}; '
                              'remove it or choose another --out')
    os.symlink(src, dst, target_is_directory=True)
