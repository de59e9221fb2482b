"""Processes of a step that are not learning channels: the learning-mode decision, SECI
conversions inside firms, innovation, trust and network dynamics, firm dynamics."""
