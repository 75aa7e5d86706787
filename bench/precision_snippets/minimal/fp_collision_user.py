# Class-name collision, part 2 of 2: this `Critic` is imported from another package and returns logits.
# NN203 false positive when linted together with fp_collision_lib.py (matched by simple class name).
import torch.nn as nn
from some_gan_package.models import Critic

loss = nn.BCEWithLogitsLoss()(Critic()(x), y)
