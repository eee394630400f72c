# SGD with a one-cycle learning rate, as in the AV-Digits calibration runs.
# The cycle spans `end` epochs: change it together with max_epochs.
max_epochs = 8
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='OneCycleLR', eta_max=0.05, begin=0, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 0.05 is for a total batch of 64; --auto-scale-lr rescales it.
auto_scale_lr = dict(base_batch_size=64, enable=False)
