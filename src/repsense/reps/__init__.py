"""Rep stages: segmentation of reps (detector), phase timing (tempo), exercise recognition."""
