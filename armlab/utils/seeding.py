"""Seeds derived from integers, for draws that must depend on what they
are about (seed, epoch, sample, round) and on nothing else."""
import hashlib


def draw_seed(*parts: int) -> int:
    """A 32-bit seed from integers, well mixed (not ``hash``, which varies
    between processes for strings and is weak for tuples of small ints)."""
    text = ','.join(str(int(p)) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(),
                          'little')
