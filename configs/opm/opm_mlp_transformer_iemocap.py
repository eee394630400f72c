# OPM on IEMOCAP (audio + visual + text features): rho_m = s_m over the mean
# of the other two scores, so more than one modality may be dropped; see
# configs/opm/README.md.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/opm.py']
# Two plain epochs of the 30-epoch schedule: the official six of 100, scaled.
model = dict(_base_.opm_model,
             balancer=dict(_base_.opm_model.balancer, warmup_epochs=2))
