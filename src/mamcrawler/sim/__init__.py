"""The simulator: scenario files, the simulated world and its physics, the simulated executor and the run loop."""
