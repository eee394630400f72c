# AMST-JOINT on IEMOCAP: the joint config's model (concat fusion); in a skipped
# epoch the skipped modality's features take the zero fill. Trained on the BB
# schedule of its joint config (AdamW lr 1e-3, 30 epochs, StepLR(10)). See
# configs/amst/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/amst.py']
# AMST's IEMOCAP factor (CXianRen/AMST Jobs/amst_*.sh comments:
# a_skip_factor 4 for the 2- and 3-modality IEMOCAP; v_skip_factor 1 "for
# all datasets"); text is not skipped (its factor is not given).
skip_factors = dict(audio=4, visual=1, text=1)
model = dict(_base_.amst_joint_model, balancer=dict(
    _base_.amst_joint_model.balancer, skip_factors=skip_factors))
