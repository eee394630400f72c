# G-Blending (configs/gblend/README.md): the fused head's and one linear head
# per modality's cross-entropies, blended with weights that favour the heads
# whose loss generalises, re-estimated every super-epoch from trials of each
# head alone; the held-out losses are read on a part of the training split
# that is never trained on. A method config names this file after its
# dataset's joint config:
#     _base_ = ['../joint/joint_concat_resnet18_<dataset>.py',
#               '../_base_/methods/gblend.py']
#     model = _base_.gblend_model
#     train_dataloader = _base_.gblend_train_dataloader
#     custom_hooks = _base_.gblend_custom_hooks
gblend_model = dict(
    aux_heads=True,  # the separate heads H_m (paper, MultiBench)
    balancer=dict(_delete_=True, type='GBlendBalancer', heads='separate'))
# MultiBench's v_rate: 8 % of the training pairs held out for L_V.
gblend_train_dataloader = dict(
    dataset=dict(holdout=dict(fraction=0.08, seed=0, part='train')))
gblend_hook = dict(
    type='GBlendHook',
    super_epoch=10,  # BalanceBenchmark's super_epoch (the paper leaves n open)
    trial_epochs=None,  # = super_epoch, the paper's trials
    online=True,
    rule='paper')  # w ∝ dG / dO^2; 'multibench' for MultiBench's delta=False
gblend_custom_hooks = [gblend_hook]
