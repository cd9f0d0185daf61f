"""The virtual bench: simulated camera, projector, bench and scripted operator (docs/scenario-format.md).

``load_scenario(name_or_path)`` → ``Scenario``; ``VirtualBench(scenario, instruction)`` renders frames and
records the ground truth (``oss.sim.truth.GroundTruth``).
"""
