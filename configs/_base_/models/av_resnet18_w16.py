# The AV ResNet-18 at width 16 (base channels 16 instead of 64): about 1.4 M
# parameters for both encoders, fast enough for CPU training on AV-Digits.
_base_ = './av_resnet18.py'
model = dict(
    encoders=dict(
        audio=dict(base_channels=16),
        visual=dict(base_channels=16),
    ),
    data_preprocessor=dict(
        # AV-Digits frames: grey digits on black, 0-255 scale.
        modalities=dict(visual=dict(mean=[33.0] * 3, std=[78.0] * 3))),
)
