# ReconBoost on UPMC Food-101 (image + text), on the BB schedule of its joint
# config (30 epochs): stages of 4 + 4 epochs. The shared head needs equal
# feature sizes: the text encoder is widened from the joint config's 256 to
# the image encoder's 512 (feed-forward width kept at 1,024), as for MLA.
# See configs/reconboost/README.md.
_base_ = ['../joint/joint_concat_resnet18_transformer_food101.py',
          '../_base_/methods/reconboost.py']
model = dict(_base_.reconboost_model,
             encoders=dict(text=dict(embed_dims=512, feedforward_channels=1024)))
