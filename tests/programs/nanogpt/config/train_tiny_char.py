# a very small character-level GPT on the sonnets in data/tiny_char, on the CPU, for tests
out_dir = 'out-tiny-char'
eval_interval = 1000
eval_iters = 2
log_interval = 1
always_save_checkpoint = False

dataset = 'tiny_char'
gradient_accumulation_steps = 2
batch_size = 4
block_size = 32

n_layer = 2
n_head = 2
n_embd = 32
dropout = 0.0

learning_rate = 1e-2
max_iters = 8
lr_decay_iters = 8
min_lr = 1e-3
beta2 = 0.99
warmup_iters = 2

device = 'cpu'
dtype = 'float32'
compile = False
backend = 'gloo'
