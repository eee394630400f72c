# The OGM-GE protocol (docs/protocols.md): SGD (momentum 0.9, wd 1e-4),
# lr 1e-3, batch 64, 100 epochs, StepLR(70, 0.1). armlab selects the
# checkpoint on the carved validation split, never on test.
max_epochs = 100
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='StepLR', step_size=70, gamma=0.1, by_epoch=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 1e-3 is for a total batch of 64; --auto-scale-lr rescales it.
auto_scale_lr = dict(base_batch_size=64, enable=False)
