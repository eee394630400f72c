# The BalanceBenchmark protocol (docs/protocols.md): AdamW (lr 1e-3, wd 0.01),
# StepLR(10, 0.1), 30 epochs. armlab selects the checkpoint on the carved
# validation split (BB uses test as validation).
max_epochs = 30
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01))
param_scheduler = [
    dict(type='StepLR', step_size=10, gamma=0.1, by_epoch=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64, enable=False)
