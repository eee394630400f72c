# ReconBoost on IEMOCAP (audio + visual + text features, all 128-d), on the
# BB schedule of its joint config (30 epochs): stages of 4 + 4 epochs in the
# code's three-modality round-robin, text -> visual -> audio. See
# configs/reconboost/README.md.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/reconboost.py']
model = dict(_base_.reconboost_model,
             balancer=dict(_base_.reconboost_model.balancer,
                           order=('text', 'visual', 'audio')))
