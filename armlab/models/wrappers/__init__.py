from .distributed import MultimodalDistributedDataParallel

__all__ = ['MultimodalDistributedDataParallel']
