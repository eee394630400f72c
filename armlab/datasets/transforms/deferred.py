"""Pipeline steps that run on the whole batch, on the model's device.

Why: a per-sample transform in a worker costs CPU that, on a small machine,
the model needs, and it cannot use a GPU. A transform built with
``on_batch=True`` does only the cheap per-sample part in the worker (reading,
cropping, drawing its random decisions) and *defers* the rest: it appends a
step ``(spec, args)`` to ``results['deferred']``, where ``spec`` is the config
of a batch transform (registered in ``TRANSFORMS``, the same for every
sample of a dataset) and ``args`` holds the sample's own values. The packer
copies the steps into the data sample, and
:class:`~armlab.models.MultimodalDataPreprocessor` runs them in order on the
stacked batch, on the device, before normalising.

A batch transform is a callable ``op(inputs, args) -> inputs`` on the dict of
batched modality tensors, with ``args`` the list of the samples' values.

Ordering rule: once a step is deferred, every later per-sample transform
would see the input *before* that step. :func:`check_deferred_order` refuses
such a pipeline at build time, naming both transforms.
"""
from typing import Any, Dict, List, Sequence

#: ``results`` key and data-sample metainfo key holding the deferred steps.
DEFERRED_KEY = 'deferred'


def defer(results: dict, spec: Dict[str, Any],
          args: Dict[str, Any]) -> None:
    """Append one deferred step to a sample's results."""
    results.setdefault(DEFERRED_KEY, []).append((dict(spec), dict(args)))


def check_deferred_order(transforms: Sequence[Any]) -> None:
    """Refuse a per-sample transform placed after a deferred one.

    A transform defers when its ``on_batch`` attribute is true; a transform
    may follow a deferred one only when it is deferred too or declares
    ``after_deferred = True`` (the packers, which only move data).

    Raises:
        ValueError: naming the deferred transform and the one after it.
    """
    first = None
    for transform in transforms:
        if getattr(transform, 'on_batch', False):
            first = first or transform
            continue
        if first is not None and not getattr(transform, 'after_deferred',
                                             False):
            raise ValueError(
                f'pipeline: {type(transform).__name__} runs per sample after '
                f'{type(first).__name__}(on_batch=True), whose work happens '
                f'later, on the batch; so it would see the input before '
                f'{type(first).__name__}. Move it before, or build '
                f'{type(first).__name__} (and the deferred steps before it) '
                f'with on_batch=False')


def same_steps(steps: Sequence[Sequence[tuple]], where: str) -> List[dict]:
    """The specs shared by every sample of a batch (each sample's steps are
    ``[(spec, args), ...]``).

    Raises:
        ValueError: samples of one batch deferred different steps.
    """
    specs = [spec for spec, _ in steps[0]]
    for i, sample_steps in enumerate(steps[1:], start=1):
        if [spec for spec, _ in sample_steps] != specs:
            raise ValueError(
                f'{where}: samples 0 and {i} of the batch deferred different '
                f'batch steps ({specs} vs '
                f'{[s for s, _ in sample_steps]}); a batch must come from '
                f'datasets with the same pipeline')
    return specs
