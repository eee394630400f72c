# MMPareto on AVE, the joint config's encoders and concat fusion, on the OGM-GE
# schedule of its joint config (SGD lr 1e-3, 100 epochs, StepLR(70)). See
# configs/mmpareto/README.md, "Real benchmarks".
_base_ = ['../joint/joint_concat_resnet18_ave.py',
          '../_base_/methods/mmpareto.py']
model = _base_.mmpareto_model
