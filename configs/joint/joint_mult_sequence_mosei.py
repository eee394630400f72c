# Joint training on CMU-MOSEI (3 classes) with the cross-modal transformer,
# the MOSI model with MOSEI's feature sizes (COVAREP 74, Facet 35); see
# joint_mult_sequence_mosi.py.
_base_ = ['../_base_/datasets/mosei.py',
          '../_base_/models/mult_sentiment.py',
          '../_base_/schedules/bb_adamw.py',
          '../_base_/default_runtime.py']
model = dict(encoders=dict(audio=dict(in_channels=74),
                           visual=dict(in_channels=35)))
auto_scale_lr = dict(base_batch_size=32)
