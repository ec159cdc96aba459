"""Keras metrics (``keras.metrics``): the ``ember.train.metrics`` classes under their Keras names."""

from ..train.metrics import (AUC, Accuracy, BinaryAccuracy, CategoricalAccuracy, Mean, MeanAbsoluteError,
                             MeanMetricWrapper, MeanSquaredError, Metric, Precision, Recall, SparseCategoricalAccuracy,
                             SparseTopKCategoricalAccuracy, Sum, TopKCategoricalAccuracy, get)

__all__ = ["AUC", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "Mean", "MeanAbsoluteError",
           "MeanMetricWrapper", "MeanSquaredError", "Metric", "Precision", "Recall", "SparseCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "Sum", "TopKCategoricalAccuracy", "get"]
