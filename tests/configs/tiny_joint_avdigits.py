# The joint AV-Digits config shrunk for CPU tests: a tiny build, width-4
# encoders, 2 epochs, no worker processes. Tests pass data_root on the
# command line.
_base_ = '../../configs/joint/joint_concat_resnet18_avdigits.py'
tiny_build = dict(
    num_train=60, num_val=20, num_test=20, num_frames=3, canvas=32,
    window_s=1.0, visual_source='sklearn', audio_source='espeak', seed=0)
model = dict(encoders=dict(audio=dict(base_channels=4),
                           visual=dict(base_channels=4)))
loader = dict(batch_size=16, num_workers=0, persistent_workers=False)
train_dataloader = dict(**loader, dataset=dict(build_cfg=tiny_build))
val_dataloader = dict(**loader, dataset=dict(build_cfg=tiny_build))
test_dataloader = dict(**loader, dataset=dict(build_cfg=tiny_build))
max_epochs = 2
param_scheduler = [
    dict(type='OneCycleLR', eta_max=0.05, begin=0, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=1))
