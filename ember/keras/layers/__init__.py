"""Keras layers (``keras.layers``): ``ember.nn`` modules with Keras names, arguments and lazy shapes."""

from .attention import Attention, MultiHeadAttention
from .base import Input, InputLayer, KerasTensor, Layer
from .conv import Conv1D, Conv2D, Conv2DTranspose, Convolution1D, Convolution2D
from .core import (Activation, Add, Average, Concatenate, Dense, Dropout, Flatten, Identity, Lambda, Maximum,
                   Minimum, Multiply, Reshape, Subtract)
from .embedding import Embedding
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D, GlobalAveragePooling1D,
                      GlobalAveragePooling2D, GlobalAvgPool1D, GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D)
from .recurrent import GRU, LSTM, Bidirectional, SimpleRNN

__all__ = ["GRU", "LSTM", "Attention", "Bidirectional", "MultiHeadAttention", "SimpleRNN", "Activation", "Add", "AveragePooling1D", "AveragePooling2D", "AvgPool1D", "AvgPool2D", "Average",
           "BatchNormalization", "Concatenate", "Conv1D", "Conv2D", "Conv2DTranspose", "Convolution1D",
           "Convolution2D", "Dense", "Dropout", "Embedding", "Flatten", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Identity", "Input", "InputLayer", "KerasTensor", "Lambda",
           "Layer", "LayerNormalization", "MaxPool1D", "MaxPool2D", "MaxPooling1D", "MaxPooling2D", "Maximum",
           "Minimum", "Multiply", "Reshape", "Subtract"]
