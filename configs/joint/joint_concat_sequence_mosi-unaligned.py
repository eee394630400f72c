# Joint training on unaligned CMU-MOSI (audio at 375 and vision at 500
# native steps, from the MMSA unaligned_50.pkl or MulT mosi_data_noalign.pkl,
# prepared into its own folder): the aligned config on that folder.
_base_ = './joint_concat_sequence_mosi.py'
data_root = 'data/mosi/unaligned'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
