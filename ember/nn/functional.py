"""Functional forms of every layer, activation and loss (PyTorch's ``torch.nn.functional``).

A thin namespace: everything here is an op from ``ember.ops``; this file is only import lists.
"""

from ..ops.activation import gelu, log_softmax, logit, sigmoid, softmax, softmin, softplus, softsign, tanh
from ..ops.indexing import one_hot
from ..ops.linalg import linear
from ..ops.shape import pad
from .layers.activation import (celu, celu_, elu, elu_, glu, hardshrink, hardsigmoid, hardswish, hardtanh, hardtanh_,
                                leaky_relu, leaky_relu_, logsigmoid, mish, prelu, relu, relu_, relu6, rrelu, rrelu_,
                                selu, selu_, silu, softshrink, tanhshrink, threshold, threshold_)
from .layers.linear import bilinear
from ..ops.dropout import alpha_dropout, dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout
from ..ops.embedding import embedding, embedding_bag
from ..ops.normalization import (batch_norm, group_norm, instance_norm, layer_norm, local_response_norm, normalize,
                                 rms_norm)
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, gaussian_nll_loss,
                        huber_loss, kl_div, l1_loss, mse_loss, nll_loss, poisson_nll_loss, smooth_l1_loss)
from ..ops.loss_margin import (cosine_embedding_loss, cosine_similarity, hinge_embedding_loss, margin_ranking_loss,
                               multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss,
                               pairwise_distance, soft_margin_loss, triplet_margin_loss,
                               triplet_margin_with_distance_loss)
from .layers.activation import gumbel_softmax
from ..ops.ctc import ctc_loss
from ..ops.convolution import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from ..ops.pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
                           avg_pool1d, avg_pool2d, max_pool1d, max_pool2d, max_unpool1d, max_unpool2d)
from ..ops.pooling import adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, max_pool3d
from ..ops.resample import (fold, interpolate, pixel_shuffle, pixel_unshuffle, unfold, upsample, upsample_bilinear,
                            upsample_nearest)
from ..ops.attention import scaled_dot_product_attention
from .layers.attention import multi_head_attention_forward
