# AV-Digits with the 'complementary' preset (see armlab/datasets/avdigits/presets.py).
_base_ = './avdigits.py'
train_dataloader = dict(dataset=dict(preset='complementary'))
val_dataloader = dict(dataset=dict(preset='complementary'))
test_dataloader = dict(dataset=dict(preset='complementary'))
