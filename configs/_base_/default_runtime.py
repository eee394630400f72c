# Runtime shared by every config: logging, checkpoints, environment, seeds.
default_scope = 'armlab'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Keeps the last checkpoint (for --resume) and the best one on the
    # validation split (never on test). Written to a temporary file and
    # renamed, so that a crash never leaves a broken checkpoint.
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1,
                    save_best='accuracy/top1', rule='greater',
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Reports the samples a dataset with skip_bad_samples=True skipped.
    bad_samples=dict(type='BadSampleHook'),
    # Each epoch's draws depend on (seed, epoch, sample) only: same numbers
    # twice, whatever the workers, and exact resume.
    draw_seeds=dict(type='DrawSeedHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

# LocalVisBackend writes vis_data/scalars.json next to the log.
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_level = 'INFO'
log_processor = dict(by_epoch=True)
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
