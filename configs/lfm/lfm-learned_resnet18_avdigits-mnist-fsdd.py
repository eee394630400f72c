# LFM's bi-level variant (the label weight learned by a hypergradient step
# after every epoch) on the all-real AV-Digits variant; 1 % of the training
# split is held out for the step. See configs/lfm/README.md.
_base_ = ['../joint/joint_concat_resnet18_avdigits-mnist-fsdd.py',
          '../_base_/methods/lfm.py']
model = _base_.lfm_learned_model
custom_hooks = _base_.lfm_learned_custom_hooks
train_dataloader = dict(dataset=dict(holdout=_base_.lfm_learned_holdout))
