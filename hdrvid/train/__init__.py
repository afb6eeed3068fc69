"""Training data: HDR readers, procedural scenes, camera simulation (grows with the training issue)."""
