# AMCo on IEMOCAP (audio + visual + text features: the mass share is taken
# over the three modalities' 3K logits), on its joint config's encoders and
# the BB schedule's 30 epochs (the window from epoch 4); see
# configs/amco/README.md.
_base_ = ['../joint/joint_concat_mlp_transformer_iemocap.py',
          '../_base_/methods/amco.py']
model = _base_.amco_bb_model
