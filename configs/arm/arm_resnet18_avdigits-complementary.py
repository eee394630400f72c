# ARM on AV-Digits with the 'complementary' preset.
_base_ = './arm_resnet18_avdigits.py'
train_dataloader = dict(dataset=dict(preset='complementary'))
val_dataloader = dict(dataset=dict(preset='complementary'))
test_dataloader = dict(dataset=dict(preset='complementary'))
