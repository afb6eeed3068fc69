"""Pipeline stages (decode, batch, infer, merge, smooth, output transform, encode), the runner and the frame."""
