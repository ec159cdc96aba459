"""Transforms: layouts, values, randomness from the generator."""

import numpy as np
import pytest

import ember
from ember.utils.data import transforms as T


def test_to_tensor_hwc_uint8_to_chw_float():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    t = T.ToTensor()(img)
    assert isinstance(t, ember.Tensor) and t.shape == (3, 2, 3) and t.dtype == ember.float32
    np.testing.assert_allclose(t.numpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    gray = T.ToTensor()(np.full((4, 5), 255, np.uint8))
    assert gray.shape == (1, 4, 5) and gray.numpy().max() == 1.0
    f = T.ToTensor()(np.full((2, 2), 3.5, np.float32))          # floats are not rescaled
    assert f.numpy().max() == 3.5
    with pytest.raises(ValueError, match="ToTensor: expected an"):
        T.ToTensor()(np.zeros(5))


def test_normalize_per_channel():
    x = ember.tensor(np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0)]).astype(np.float32))
    y = T.Normalize(mean=[0.5, 1.0], std=[0.5, 2.0])(x)
    assert y[0].numpy().tolist() == [[1.0, 1.0], [1.0, 1.0]] and y[1].numpy().max() == 1.0
    assert x[0, 0, 0].item() == 1.0                      # not in place by default
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize([0.0], [0.0])
    with pytest.raises(ValueError, match="3 means / 3 stds for an image with 2 channels"):
        T.Normalize([0.0] * 3, [1.0] * 3)(x)


def test_random_crop_with_padding_covers_all_offsets_and_keeps_layout():
    img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    crop = T.RandomCrop(4, padding=1, generator=ember.Generator().manual_seed(0))
    seen = {crop(img).tobytes() for _ in range(200)}
    assert len(seen) == 9                                # 3 x 3 possible offsets
    out = crop(img)
    assert out.shape == (4, 4)
    # every crop is the padded image's window: its pixels are the originals or the zero fill
    assert set(np.unique(out)) <= set(range(16))
    chw = ember.tensor(np.zeros((3, 6, 6), np.float32))
    assert T.RandomCrop((2, 3))(chw).shape == (3, 2, 3)
    hwc = np.zeros((6, 6, 3), np.uint8)
    assert T.RandomCrop(5)(hwc).shape == (5, 5, 3)
    edge = T.RandomCrop(6, padding=1, padding_mode="edge", generator=ember.Generator().manual_seed(1))(img)
    assert edge.shape == (6, 6) and edge[0, 0] == 0 and edge[-1, -1] == 15
    with pytest.raises(ValueError, match="required crop size"):
        T.RandomCrop(5)(img)
    assert T.RandomCrop(5, pad_if_needed=True)(img).shape == (5, 5)


def test_horizontal_flip_probability_and_axes():
    img = np.arange(6).reshape(2, 3)
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    t = ember.tensor(np.arange(12.0).reshape(1, 3, 4))
    assert T.RandomHorizontalFlip(p=1.0)(t).numpy()[0, 0].tolist() == [3.0, 2.0, 1.0, 0.0]
    g = ember.Generator().manual_seed(0)
    flips = sum(T.RandomHorizontalFlip(generator=g)(img)[0, 0] == 2 for _ in range(1000))
    assert 400 < flips < 600


def test_random_transforms_follow_manual_seed():
    pipeline = T.Compose([T.RandomCrop(4, padding=2), T.RandomHorizontalFlip(), T.ToTensor(), T.Lambda(lambda t: t * 2)])
    img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    ember.manual_seed(3)
    a = [pipeline(img).numpy() for _ in range(5)]
    ember.manual_seed(3)
    b = [pipeline(img).numpy() for _ in range(5)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(a[0], x) for x in a[1:])
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        T.Lambda(3)
