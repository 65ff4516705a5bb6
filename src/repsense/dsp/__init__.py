"""Signal stages: timing repair, orientation (gravity), movement signal."""
