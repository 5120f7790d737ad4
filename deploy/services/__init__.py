"""Process managers Shipyard restarts after a switch."""
