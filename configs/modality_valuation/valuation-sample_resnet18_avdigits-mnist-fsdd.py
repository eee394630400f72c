# Sample-level modality valuation with re-sampling on the all-real AV-Digits
# variant (MNIST + FSDD speech), the same settings as on the embedded variant
# (valuation-sample_resnet18_avdigits.py, which says why the schedule steps
# by epoch).
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/modality_valuation.py']
max_epochs = 8
model = _base_.valuation_model
train_dataloader = dict(sampler=_base_.valuation_sampler)
param_scheduler = [
    dict(type='OneCycleLR', eta_max=0.05, begin=0, end=max_epochs + 1,
         by_epoch=True, convert_to_iter_based=False)
]
custom_hooks = [dict(_base_.valuation_hook, warmup_epochs=2)]
