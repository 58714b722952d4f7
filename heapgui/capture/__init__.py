"""Qt-free capture: ITM demultiplexing, byte sources and capture sessions."""
