# CIDer on unaligned CMU-MOSI (MMSA unaligned_50.pkl prepared into its own
# folder: text 50 BERT steps, audio 375, vision 500 native steps). WSAM
# moves audio and vision onto the words before the GRUs; its reconstruction
# heads map the 50 word steps back to each modality's native steps.
_base_ = ['./cider_sequence_mosi.py']
data_root = 'data/mosi/unaligned'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
model = dict(word_aligned=dict(anchor='text', skip_ends=True,
                               steps=dict(text=50, audio=375, visual=500)))
