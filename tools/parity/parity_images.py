"""Synthetic but natural-ish test images: smooth gradients, filled shapes with texture, noise."""
import numpy as np


def synthetic(height, width, seed):
    """An 8-bit RGB image [height, width, 3], a pure function of its arguments (numpy only)."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    yn, xn = y / height, x / width
    img = np.empty((height, width, 3))
    for c in range(3):
        a, b, c0 = rng.uniform(-0.5, 0.5, 3)
        fx, fy, ph = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 2 * np.pi)
        img[..., c] = 0.5 + c0 * 0.4 + a * xn + b * yn + 0.08 * np.sin(2 * np.pi * (fx * xn + fy * yn) + ph)
    for _ in range(rng.randint(6, 11)):
        color = rng.uniform(0.0, 1.0, 3)
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        ry = rng.uniform(0.06, 0.3) * height
        rx = rng.uniform(0.06, 0.3) * width
        theta = rng.uniform(0, np.pi)
        dy, dx = y - cy, x - cx
        u = (dx * np.cos(theta) + dy * np.sin(theta)) / rx
        v = (-dx * np.sin(theta) + dy * np.cos(theta)) / ry
        kind = rng.randint(3)
        if kind == 0:
            inside = u * u + v * v <= 1.0           # ellipse
        elif kind == 1:
            inside = (np.abs(u) <= 1.0) & (np.abs(v) <= 1.0)  # rotated rectangle
        else:
            inside = np.abs(u) + np.abs(v) <= 1.0   # rhombus
        # Texture: stripes or a smooth shading across the shape.
        freq, phase = rng.uniform(2, 12), rng.uniform(0, 2 * np.pi)
        texture = 1.0 + rng.uniform(0.05, 0.25) * np.sin(freq * u + phase) * np.cos(0.7 * freq * v)
        shade = 1.0 - 0.25 * np.clip(u * u + v * v, 0, 1)
        for c in range(3):
            img[..., c] = np.where(inside, color[c] * texture * shade, img[..., c])
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
