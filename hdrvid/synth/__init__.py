"""Synthetic footage: procedural scenes, camera simulation, alternating-exposure clips with ground truth."""
