"""Qt-free trace decoding, encoding, detection and statistics."""
