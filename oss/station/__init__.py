"""The station: the loop that wires camera, perception, engine, renderer, displays, devices and log."""
