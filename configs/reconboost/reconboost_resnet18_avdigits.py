# ReconBoost on AV-Digits (audio-dominant preset, embedded build), width-16
# ResNet-18s; see configs/reconboost/README.md. The code's stages of 4
# learner + 4 rectification epochs scaled to the 8-epoch run: 1 + 1, so four
# stages (audio, visual, audio, visual), each learner epoch followed by one
# of rectification.
_base_ = ['../joint/joint_concat_resnet18_avdigits.py',
          '../_base_/methods/reconboost.py']
model = dict(_base_.reconboost_model,
             balancer=dict(_base_.reconboost_model.balancer,
                           learner_epochs=1, rectify_epochs=1))
