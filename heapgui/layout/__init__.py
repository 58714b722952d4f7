"""Qt-free pool layouts: demand, optimizer, distribution, config files."""
