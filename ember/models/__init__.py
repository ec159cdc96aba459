"""The model zoo (``ember.models``): classic architectures with PyTorch / torchvision / HuggingFace
parameter names, so that converted checkpoints load with ``load_state_dict`` unchanged, and
``load_pretrained`` for local or package-installed safetensors weights (it never downloads).

    MLP, LeNet5                         small baselines
    vgg11/13/16/19[_bn], VGG            torchvision names (features.N, avgpool, classifier.N)
    resnet18/34/50/101/152, ResNet      torchvision names (conv1, bn1, layer1.0.conv1, downsample.0, fc)
    LSTMClassifier, TransformerClassifier   text classifiers on token ids
    BertModel, BertConfig, BertForSequenceClassification   HuggingFace names (embeddings.*, encoder.layer.N.*)
    load_pretrained, save_pretrained, register_pretrained, list_pretrained
    sentence_encoder, encode_sentences, Tokenizer   all-MiniLM-L6-v2 sentence embeddings

Optional dependencies are imported only when used: ``safetensors`` (weights) and ``tokenizers``.
"""

from .bert import BertConfig, BertForSequenceClassification, BertModel, BertModelOutput, mean_pooling
from .lenet import LeNet5
from .lstm_classifier import LSTMClassifier
from .mlp import MLP
from .pretrained import (list_pretrained, load_pretrained, load_safetensors, register_pretrained,
                         resolve_pretrained, save_pretrained)
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50, resnet101, resnet152
from .sentence import encode_sentences, sentence_encoder
from .tokenizer import Tokenizer
from .transformer_classifier import TransformerClassifier
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from .zoo import MODELS, get_model, list_models

__all__ = [
    "MLP", "LeNet5", "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "LSTMClassifier", "TransformerClassifier", "BertConfig", "BertModel", "BertForSequenceClassification",
    "BertModelOutput", "mean_pooling", "load_pretrained", "save_pretrained", "register_pretrained",
    "resolve_pretrained", "list_pretrained", "load_safetensors", "sentence_encoder", "encode_sentences",
    "Tokenizer", "MODELS", "get_model", "list_models",
]
