# PMR on IEMOCAP, the joint config's encoders and concat fusion, on the BB
# schedule of its joint config (AdamW lr 1e-3, 30 epochs, StepLR(10)). See
# configs/pmr/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/pmr.py']
# bash.sh modulates the first 70 % of its run (0-70 of 100): the
# window scaled to this 30-epoch schedule is 0-21.
model = dict(_base_.pmr_model,
             balancer=dict(_base_.pmr_model.balancer, end_epoch=21))
custom_hooks = _base_.pmr_custom_hooks
