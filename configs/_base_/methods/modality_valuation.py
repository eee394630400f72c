# Sample-level modality valuation with re-sampling (Wei et al., CVPR 2024;
# configs/modality_valuation/README.md): the blocks its method configs
# share. A method config names this file after its dataset's joint config:
#     model = _base_.valuation_model
#     train_dataloader = dict(sampler=_base_.valuation_sampler)
#     custom_hooks = [_base_.valuation_hook]
# Training is plain joint training; the method acts through the data.
valuation_model = dict(balancer=dict(_delete_=True, type='JointTraining'))
# 'repeat' appends the modality-masked copies, as the paper: the epoch grows.
# A schedule that steps by epoch is unchanged by the longer epochs.
valuation_sampler = dict(_delete_=True, type='ResamplingSampler',
                         shuffle=True, mode='repeat')
# W = 5 epochs: the official sample-level script's warm-up (5 of 60 epochs).
valuation_hook = dict(type='ModalityValuationHook', level='sample',
                      warmup_epochs=5, interval=1, seed=0)
