# Joint training on unaligned CMU-MOSEI (audio and vision at 500 native
# steps, prepared into its own folder): the aligned MOSEI config on that
# folder.
_base_ = './joint_concat_sequence_mosei.py'
data_root = 'data/mosei/unaligned'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
